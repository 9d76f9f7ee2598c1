import { test } from 'node:test';
import { runnableModule } from '../tasks/lib/compiled.ts';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { CATEGORIES, Category } from '../schemas/category.ts';
import { ChatMessage, ToolCall, ToolDef } from '../schemas/chat.ts';
import { DistillConfig } from '../schemas/config.ts';
import { DriftReport } from '../schemas/drift-report.ts';
import { EvidenceRecord } from '../schemas/evidence-record.ts';
import { KtoSample } from '../schemas/kto-sample.ts';
import { PreferenceSample } from '../schemas/preference-sample.ts';
import { IsoTimestamp, Provenance, Sha256 } from '../schemas/provenance.ts';
import { QuarantineRecord } from '../schemas/quarantine-record.ts';
import { RagSample } from '../schemas/rag-sample.ts';
import { ReplayConfig } from '../schemas/replay-config.ts';
import { RunSummary } from '../schemas/run-summary.ts';
import { ScoredRun } from '../schemas/scored-run.ts';
import { SFT_QUALITY, SftQuality, SftSample } from '../schemas/sft-sample.ts';
import { StageReceipt } from '../schemas/stage-receipt.ts';

const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

const SHA_A = 'a'.repeat(64);
const SHA_B = '0123456789abcdef'.repeat(4);
const TS = '2024-05-01T12:00:00.000Z';
const ID24 = '0123456789abcdef01234567';

/** Parses and returns the data; fails the test with zod's issues when the value is refused. */
function accept<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  assert.ok(r.success, r.success ? '' : `expected success, got ${JSON.stringify(r.error.issues)}`);
  return r.data;
}

/** The issues of a refused value as "path: code" strings (path "" for the root). */
function refuse(schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  assert.equal(r.success, false, `expected ${JSON.stringify(value)} to be refused`);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
}

/** The issue messages of a refused value. */
function messages(schema: z.ZodType, value: unknown): string[] {
  const r = schema.safeParse(value);
  assert.equal(r.success, false, `expected ${JSON.stringify(value)} to be refused`);
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

function provenance(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { source_file: 'data/raw/gateway.jsonl', line_offset: 3, sig_hash: SHA_A, recorded_at: TS, ...over };
}

const USER = { role: 'user', content: 'What is 2+2?' };
const ASSISTANT = { role: 'assistant', content: '4' };

function runBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    messages: [{ role: 'system', content: 'Be brief.' }, USER, ASSISTANT],
    tools: [],
    model: 'llama-3-8b',
    provider: 'ollama',
    tier: 'local',
    usage: { prompt_tokens: 12, completion_tokens: 1 },
    latency_ms: 250,
    finish_reason: 'stop',
    error: null,
    escalated_from: null,
    ...over,
  };
}

function evidence(
  kind: string,
  body: Record<string, unknown>,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema_version: 1,
    evidence_id: `ev_${ID24}`,
    stream: 'gateway',
    trace_id: 'tr-1',
    task_key: 'task-1',
    recorded_at: TS,
    flags: [],
    provenance: provenance(),
    kind,
    [kind]: body,
    ...over,
  };
}

// ---------------------------------------------------------------- SCHEMA_VERSION

test('every schema file exports SCHEMA_VERSION as a positive integer', async () => {
  const files = readdirSync(SCHEMAS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  assert.deepEqual(files, [
    'audit-baseline-entry.ts',
    'category.ts',
    'chat.ts',
    'config.ts',
    'drift-report.ts',
    'evidence-record.ts',
    'kto-sample.ts',
    'preference-sample.ts',
    'provenance.ts',
    'quarantine-record.ts',
    'rag-sample.ts',
    'release-manifest.ts',
    'replay-call.ts',
    'replay-config.ts',
    'run-summary.ts',
    'scored-run.ts',
    'sft-sample.ts',
    'stage-receipt.ts',
  ]);
  for (const f of files) {
    // the module as this process runs its code (npm test: the compiled .js, tasks/lib/compiled.ts)
    const mod = (await import(runnableModule(pathToFileURL(join(SCHEMAS_DIR, f))).href)) as {
      SCHEMA_VERSION?: unknown;
    };
    assert.equal(typeof mod.SCHEMA_VERSION, 'number', `${f} must export SCHEMA_VERSION`);
    assert.ok(
      Number.isInteger(mod.SCHEMA_VERSION) && (mod.SCHEMA_VERSION as number) > 0,
      `${f}: SCHEMA_VERSION ${String(mod.SCHEMA_VERSION)}`,
    );
  }
});

test('records with a schema_version field refuse any other version', () => {
  const cases: Array<[string, z.ZodType, Record<string, unknown>]> = [
    ['EvidenceRecord', EvidenceRecord, evidence('run', runBody())],
    ['QuarantineRecord', QuarantineRecord, quarantine()],
    ['SftSample', SftSample, sft()],
    ['KtoSample', KtoSample, kto()],
    ['StageReceipt', StageReceipt, receipt()],
    ['DriftReport', DriftReport, drift()],
  ];
  for (const [name, schema, value] of cases) {
    accept(schema, value);
    assert.deepEqual(
      refuse(schema, { ...value, schema_version: (value['schema_version'] as number) + 1 }),
      ['schema_version: invalid_value'],
      name,
    );
  }
});

// ---------------------------------------------------------------- provenance

test('Provenance: a JSONL row and an array element with a locator are accepted', () => {
  assert.deepEqual(accept(Provenance, provenance()), provenance());
  accept(Provenance, provenance({ locator: '$[12]', line_offset: 12, recorded_at: null }));
});

test('Provenance: absolute or escaping paths are refused', () => {
  for (const source_file of ['/etc/passwd', '../outside.jsonl', 'data/../../x.jsonl', '']) {
    assert.equal(refuse(Provenance, provenance({ source_file })).length, 1, source_file);
  }
  assert.deepEqual(messages(Provenance, provenance({ source_file: '/etc/passwd' })), [
    'must be a relative path inside the project',
  ]);
});

test('Provenance: bad offsets, hashes and timestamps are refused with their paths', () => {
  assert.deepEqual(refuse(Provenance, provenance({ line_offset: -1 })), ['line_offset: too_small']);
  assert.deepEqual(refuse(Provenance, provenance({ line_offset: 1.5 })), ['line_offset: invalid_type']);
  assert.deepEqual(refuse(Provenance, provenance({ sig_hash: SHA_A.toUpperCase() })), [
    'sig_hash: invalid_format',
  ]);
  assert.deepEqual(refuse(Provenance, provenance({ sig_hash: SHA_A.slice(1) })), [
    'sig_hash: invalid_format',
  ]);
  assert.deepEqual(messages(Provenance, provenance({ sig_hash: 'x' })), ['expected a lowercase hex sha256']);
  assert.deepEqual(refuse(Provenance, provenance({ recorded_at: '2024-05-01T12:00:00Z' })), [
    'recorded_at: invalid_format',
  ]);
});

test('Provenance is strict: unknown keys are refused', () => {
  assert.deepEqual(refuse(Provenance, provenance({ extra: 1 })), [': unrecognized_keys']);
});

test('Sha256 and IsoTimestamp accept exactly their canonical forms', () => {
  accept(Sha256, SHA_B);
  accept(IsoTimestamp, new Date(0).toISOString());
  for (const bad of [
    '2024-05-01T12:00:00.000+00:00',
    '2024-05-01 12:00:00.000Z',
    '2024-05-01T12:00:00.0Z',
    '+010000-01-01T00:00:00.000Z',
  ]) {
    assert.deepEqual(refuse(IsoTimestamp, bad), [': invalid_format'], bad);
  }
});

// ---------------------------------------------------------------- chat

test('ChatMessage: each role in OpenAI shape is accepted', () => {
  accept(ChatMessage, { role: 'system', content: 's' });
  accept(ChatMessage, { role: 'user', content: '' });
  accept(ChatMessage, {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":2}' } }],
    reasoning: 'adding',
  });
  accept(ChatMessage, { role: 'tool', tool_call_id: 'call_1', content: '4' });
});

test('ChatMessage: unknown or look-alike roles are refused', () => {
  assert.deepEqual(refuse(ChatMessage, { role: 'developer', content: 'x' }), ['role: invalid_union']);
  assert.deepEqual(refuse(ChatMessage, { role: '\u0430ssistant', content: 'x' }), ['role: invalid_union']); // Cyrillic а
  assert.deepEqual(refuse(ChatMessage, { role: 'Assistant', content: 'x' }), ['role: invalid_union']);
});

test('ChatMessage: wrong content types, missing tool_call_id and extra keys are refused', () => {
  assert.deepEqual(refuse(ChatMessage, { role: 'user', content: null }), ['content: invalid_type']);
  assert.deepEqual(refuse(ChatMessage, { role: 'user', content: [{ type: 'text', text: 'x' }] }), [
    'content: invalid_type',
  ]);
  assert.deepEqual(refuse(ChatMessage, { role: 'tool', content: '4' }), ['tool_call_id: invalid_type']);
  assert.deepEqual(refuse(ChatMessage, { role: 'tool', tool_call_id: '', content: '4' }), [
    'tool_call_id: too_small',
  ]);
  assert.deepEqual(refuse(ChatMessage, { role: 'user', content: 'x', name: 'bob' }), [': unrecognized_keys']);
  assert.deepEqual(refuse(ChatMessage, { role: 'system', content: 's', tool_calls: [] }), [
    ': unrecognized_keys',
  ]);
});

test('ToolCall: arguments must be a JSON string, not an object; type must be "function"', () => {
  accept(ToolCall, { id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } });
  assert.deepEqual(refuse(ToolCall, { id: 'c', type: 'function', function: { name: 'f', arguments: {} } }), [
    'function.arguments: invalid_type',
  ]);
  assert.deepEqual(refuse(ToolCall, { id: 'c', type: 'code', function: { name: 'f', arguments: '{}' } }), [
    'type: invalid_value',
  ]);
  assert.deepEqual(refuse(ToolCall, { id: '', type: 'function', function: { name: '', arguments: '{}' } }), [
    'id: too_small',
    'function.name: too_small',
  ]);
});

test('ToolDef: parameters are an optional object', () => {
  accept(ToolDef, { type: 'function', function: { name: 'f' } });
  accept(ToolDef, {
    type: 'function',
    function: { name: 'f', description: 'd', parameters: { type: 'object', properties: {} } },
  });
  assert.deepEqual(refuse(ToolDef, { type: 'function', function: { name: 'f', parameters: 'x' } }), [
    'function.parameters: invalid_type',
  ]);
});

// ---------------------------------------------------------------- evidence record

test('EvidenceRecord: a run is accepted', () => {
  const v = evidence('run', runBody());
  assert.deepEqual(accept(EvidenceRecord, v), v);
  accept(
    EvidenceRecord,
    evidence(
      'run',
      runBody({
        usage: null,
        latency_ms: null,
        model: null,
        provider: null,
        tier: 'unknown',
        finish_reason: null,
      }),
    ),
  );
  accept(
    EvidenceRecord,
    evidence(
      'run',
      runBody({ error: { type: 'timeout', message: 'took too long', status: 504 }, escalated_from: 'tr-0' }),
    ),
  );
});

test('EvidenceRecord: every signal type is accepted', () => {
  const signals = [
    { type: 'human_review', verdict: 'approve', corrected_answer: null, reviewer: 'ana', comment: null },
    { type: 'human_review', verdict: 'edit', corrected_answer: 'Four.', reviewer: null, comment: 'style' },
    { type: 'test_result', passed: 3, failed: 0, suite: 'unit' },
    { type: 'tool_exit', tool: 'pytest', exit_code: -1 },
    { type: 'auditor_verdict', verdict: 'uncertain', confidence: 0.5, auditor: null },
    { type: 'reward', value: 1, source: null },
    { type: 'error', error_type: 'RateLimit', message: '429' },
  ];
  for (const s of signals) accept(EvidenceRecord, evidence('signal', s));
});

test('EvidenceRecord: a document and a judgment are accepted with null trace_id', () => {
  accept(
    EvidenceRecord,
    evidence(
      'document',
      { doc_id: 'kb-1', title: 'Playbook', text: 'Restart the pod.', tags: ['ops'] },
      { trace_id: null, task_key: null },
    ),
  );
  accept(
    EvidenceRecord,
    evidence(
      'judgment',
      { prompt: [USER], chosen: '4', rejected: '5', judge: 'ana', strength: null },
      { trace_id: null, recorded_at: null },
    ),
  );
});

test('EvidenceRecord: the body must match the kind, and only one body is allowed', () => {
  const signal = { type: 'reward', value: 1, source: null };
  assert.deepEqual(refuse(EvidenceRecord, { ...evidence('run', runBody()), run: undefined, signal }), [
    'run: invalid_type',
    ': unrecognized_keys',
  ]);
  assert.deepEqual(refuse(EvidenceRecord, { ...evidence('run', runBody()), signal }), [
    ': unrecognized_keys',
  ]);
  assert.deepEqual(refuse(EvidenceRecord, evidence('trace', runBody())), ['kind: invalid_union']);
});

test('EvidenceRecord: ids, streams and nested bodies are checked', () => {
  assert.deepEqual(refuse(EvidenceRecord, evidence('run', runBody(), { evidence_id: 'ev_XYZ' })), [
    'evidence_id: invalid_format',
  ]);
  assert.deepEqual(refuse(EvidenceRecord, evidence('run', runBody(), { stream: '' })), ['stream: too_small']);
  assert.deepEqual(refuse(EvidenceRecord, evidence('run', runBody(), { provenance: undefined })), [
    'provenance: invalid_type',
  ]);
  assert.deepEqual(refuse(EvidenceRecord, evidence('run', runBody({ tier: 'edge' }))), [
    'run.tier: invalid_value',
  ]);
  assert.deepEqual(
    refuse(EvidenceRecord, evidence('run', runBody({ usage: { prompt_tokens: -1, completion_tokens: 0 } }))),
    ['run.usage.prompt_tokens: too_small'],
  );
  assert.deepEqual(
    refuse(EvidenceRecord, evidence('run', runBody({ messages: [{ role: 'robot', content: 'x' }] }))),
    ['run.messages.0.role: invalid_union'],
  );
  assert.deepEqual(
    refuse(
      EvidenceRecord,
      evidence('signal', {
        type: 'human_review',
        verdict: 'approved',
        corrected_answer: null,
        reviewer: null,
        comment: null,
      }),
    ),
    ['signal.verdict: invalid_value'],
  );
  assert.deepEqual(
    refuse(
      EvidenceRecord,
      evidence('signal', { type: 'auditor_verdict', verdict: 'pass', confidence: 1.5, auditor: null }),
    ),
    ['signal.confidence: too_big'],
  );
  assert.deepEqual(
    refuse(EvidenceRecord, evidence('signal', { type: 'reward', value: -0.1, source: null })),
    ['signal.value: too_small'],
  );
  assert.deepEqual(refuse(EvidenceRecord, evidence('signal', { type: 'vibes', value: 1 })), [
    'signal.type: invalid_union',
  ]);
  assert.deepEqual(
    refuse(EvidenceRecord, evidence('document', { doc_id: 'd', title: '', text: '', tags: [] })),
    ['document.text: too_small'],
  );
  assert.deepEqual(
    refuse(
      EvidenceRecord,
      evidence('judgment', { prompt: [], chosen: 'a', rejected: 'b', judge: null, strength: null }),
    ),
    ['judgment.prompt: too_small'],
  );
});

// ---------------------------------------------------------------- scored run

function scored(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    run_id: 'tr-1',
    evidence_id: `ev_${ID24}`,
    stream: 'gateway',
    task_key: 'task-1',
    recorded_at: TS,
    category: 'accepted',
    decided_by: 'R10-human-approve',
    rules_fired: ['R10-human-approve', 'R40-tests-pass'],
    rule_table_version: '1',
    correction: null,
    run: runBody(),
    signals: [
      {
        evidence_id: `ev_${'f'.repeat(24)}`,
        stream: 'reviews',
        signal: {
          type: 'human_review',
          verdict: 'approve',
          corrected_answer: null,
          reviewer: 'ana',
          comment: null,
        },
        provenance: provenance({ source_file: 'data/raw/reviews.jsonl' }),
      },
    ],
    flags: [],
    provenance: provenance(),
    ...over,
  };
}

test('ScoredRun: each of the four categories is accepted', () => {
  assert.deepEqual([...CATEGORIES], ['accepted', 'partially_accepted', 'rejected', 'needs_human_review']);
  for (const category of CATEGORIES) accept(ScoredRun, scored({ category }));
});

test('ScoredRun: unknown category, empty rules_fired and bad joined signals are refused', () => {
  assert.deepEqual(refuse(ScoredRun, scored({ category: 'approved' })), ['category: invalid_value']);
  assert.deepEqual(refuse(Category, 'unknown'), [': invalid_value']);
  assert.deepEqual(refuse(ScoredRun, scored({ rules_fired: [] })), ['rules_fired: too_small']);
  assert.deepEqual(refuse(ScoredRun, scored({ run_id: '' })), ['run_id: too_small']);
  assert.deepEqual(
    refuse(
      ScoredRun,
      scored({
        signals: [
          {
            evidence_id: 'e',
            stream: 's',
            signal: { type: 'reward', value: 2, source: null },
            provenance: provenance(),
          },
        ],
      }),
    ),
    ['signals.0.signal.value: too_big'],
  );
});

// ---------------------------------------------------------------- quarantine record

function quarantine(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    stage: 'build-evidence',
    reason: 'JSON_PARSE',
    detail: 'Unexpected token',
    source_file: 'data/raw/gateway.jsonl',
    line_offset: 7,
    byte_offset: 1024,
    bytes: 33,
    line_sha256: SHA_A,
    sig_hash: null,
    record_id: null,
    trace_id: null,
    ref: null,
    ...over,
  };
}

test('QuarantineRecord: a line drop, a whole-file drop and a reason with a suffix are accepted', () => {
  accept(QuarantineRecord, quarantine());
  accept(
    QuarantineRecord,
    quarantine({
      reason: 'BINARY_FILE',
      line_offset: null,
      byte_offset: null,
      bytes: null,
      line_sha256: null,
    }),
  );
  accept(
    QuarantineRecord,
    quarantine({ reason: 'SECRET_DETECTED:aws-access-token', sig_hash: SHA_B, trace_id: 'tr-1' }),
  );
  accept(QuarantineRecord, quarantine({ reason: 'DUPLICATE_OF:ev_0123.x', ref: `ev_${ID24}` }));
});

test('QuarantineRecord: reason codes must be UPPER_SNAKE with an optional simple suffix', () => {
  for (const reason of [
    'json_parse',
    'Json_Parse',
    'JSON PARSE',
    'SECRET_DETECTED:',
    'SECRET:a:b',
    '_X',
    '',
  ]) {
    assert.deepEqual(refuse(QuarantineRecord, quarantine({ reason })), ['reason: invalid_format'], reason);
  }
});

test('QuarantineRecord: negative offsets and raw-content fields are refused', () => {
  assert.deepEqual(refuse(QuarantineRecord, quarantine({ line_offset: -1 })), ['line_offset: too_small']);
  assert.deepEqual(refuse(QuarantineRecord, quarantine({ line_sha256: 'abc' })), [
    'line_sha256: invalid_format',
  ]);
  assert.deepEqual(refuse(QuarantineRecord, quarantine({ raw: '{"secret":1}' })), [': unrecognized_keys']);
});

// ---------------------------------------------------------------- rag sample

function rag(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    id: `rag_${ID24}`,
    text: 'Restart the pod, then check the logs.',
    metadata: { source: 'data/kb/ops.md', stream: 'kb', chunk_index: 0, chunk_count: 1 },
    provenance: provenance(),
    ...over,
  };
}

test('RagSample: whole documents and numbered chunks are accepted', () => {
  accept(RagSample, rag());
  accept(RagSample, rag({ id: `rag_${ID24}-3`, metadata: {} }));
});

test('RagSample: metadata must be flat strings and numbers; text non-empty; id well-formed', () => {
  assert.deepEqual(refuse(RagSample, rag({ metadata: { nested: { a: 1 } } })), [
    'metadata.nested: invalid_union',
  ]);
  assert.deepEqual(refuse(RagSample, rag({ metadata: { ok: true } })), ['metadata.ok: invalid_union']);
  assert.deepEqual(refuse(RagSample, rag({ metadata: { tags: ['a'] } })), ['metadata.tags: invalid_union']);
  assert.deepEqual(refuse(RagSample, rag({ metadata: { task_key: null } })), [
    'metadata.task_key: invalid_union',
  ]);
  assert.deepEqual(refuse(RagSample, rag({ text: '' })), ['text: too_small']);
  assert.deepEqual(refuse(RagSample, rag({ id: `rag_${ID24}-x` })), ['id: invalid_format']);
  assert.deepEqual(refuse(RagSample, rag({ id: `sft_${ID24}` })), ['id: invalid_format']);
});

// ---------------------------------------------------------------- sft sample

function sft(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 2,
    id: `sft_${ID24}`,
    run_id: 'tr-1',
    task_key: 'task-1',
    quality_score: 'accepted',
    messages: [USER, ASSISTANT],
    tools: [],
    derived_tools: [],
    repairs: [],
    split: 'train',
    provenance: provenance(),
    ...over,
  };
}

test('SFT_QUALITY has exactly the two trainable categories', () => {
  assert.deepEqual([...SFT_QUALITY], ['accepted', 'partially_accepted']);
  assert.deepEqual(SftQuality.options, ['accepted', 'partially_accepted']);
});

test('SftSample: accepted and partially_accepted rows are accepted', () => {
  assert.deepEqual(accept(SftSample, sft()), sft());
  accept(SftSample, sft({ quality_score: 'partially_accepted', split: 'test', task_key: null }));
});

test('SftSample: quality_score rejected / needs_human_review / unknown is refused', () => {
  for (const quality_score of ['rejected', 'needs_human_review', 'unknown', '', null]) {
    assert.deepEqual(
      refuse(SftSample, sft({ quality_score })),
      ['quality_score: invalid_value'],
      String(quality_score),
    );
  }
});

test('SftSample: fewer than two messages, a bad split or an unknown key is refused', () => {
  assert.deepEqual(refuse(SftSample, sft({ messages: [ASSISTANT] })), ['messages: too_small']);
  assert.deepEqual(refuse(SftSample, sft({ split: 'validation' })), ['split: invalid_value']);
  assert.deepEqual(refuse(SftSample, sft({ review_status: 'approved' })), [': unrecognized_keys']);
  assert.deepEqual(refuse(SftSample, sft({ id: `sft_${ID24}0` })), ['id: invalid_format']);
});

// ---------------------------------------------------------------- preference sample

function pref(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 2,
    id: `pref_${ID24}`,
    pair_type: 'outcome',
    task_key: 'task-1',
    prompt: [USER],
    derived_tools: [],
    chosen: [{ role: 'assistant', content: '4' }],
    rejected: [{ role: 'assistant', content: '5' }],
    repairs: { chosen: [], rejected: [] },
    chosen_id: 'tr-1',
    rejected_id: 'tr-2',
    chosen_provenance: provenance(),
    rejected_provenance: provenance({ line_offset: 4 }),
    split: 'train',
    ...over,
  };
}

test('PreferenceSample: a pair of different runs with different texts is accepted', () => {
  assert.deepEqual(accept(PreferenceSample, pref()), pref());
  accept(PreferenceSample, pref({ pair_type: 'correction', task_key: null }));
  accept(PreferenceSample, pref({ pair_type: 'judgment', split: 'test' }));
});

test('PreferenceSample: a self-pair (chosen_id = rejected_id) is refused', () => {
  const r = PreferenceSample.safeParse(pref({ rejected_id: 'tr-1' }));
  assert.equal(r.success, false);
  assert.deepEqual(
    r.error?.issues.map((i) => ({ code: i.code, path: i.path, message: i.message })),
    [{ code: 'custom', path: ['rejected_id'], message: 'self-pair: chosen_id equals rejected_id' }],
  );
});

test('PreferenceSample: identical chosen and rejected texts are refused', () => {
  const r = PreferenceSample.safeParse(pref({ rejected: [{ role: 'assistant', content: '4' }] }));
  assert.equal(r.success, false);
  assert.deepEqual(
    r.error?.issues.map((i) => ({ code: i.code, path: i.path, message: i.message })),
    [{ code: 'custom', path: ['rejected'], message: 'chosen and rejected are identical' }],
  );
});

test('PreferenceSample: both refinements report together on a self-pair with identical texts', () => {
  assert.deepEqual(
    messages(
      PreferenceSample,
      pref({ rejected_id: 'tr-1', rejected: [{ role: 'assistant', content: '4' }] }),
    ),
    ['self-pair: chosen_id equals rejected_id', 'chosen and rejected are identical'],
  );
});

test('PreferenceSample: each side is a non-empty continuation that starts with an assistant turn; pair_type is closed', () => {
  assert.deepEqual(refuse(PreferenceSample, pref({ chosen: [{ role: 'user', content: '4' }] })), [
    'chosen: custom',
  ]);
  assert.deepEqual(messages(PreferenceSample, pref({ chosen: [{ role: 'user', content: '4' }] })), [
    'a pair side starts with an assistant turn',
  ]);
  assert.deepEqual(refuse(PreferenceSample, pref({ rejected: [] })), [
    'rejected: too_small',
    'rejected: custom',
  ]);
  assert.deepEqual(refuse(PreferenceSample, pref({ chosen: { role: 'assistant', content: '4' } })), [
    'chosen: invalid_type',
  ]);
  assert.deepEqual(refuse(PreferenceSample, pref({ pair_type: 'random' })), ['pair_type: invalid_value']);
  assert.deepEqual(refuse(PreferenceSample, pref({ prompt: [] })), ['prompt: too_small']);
});

// ---------------------------------------------------------------- kto sample

function kto(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 2,
    id: `kto_${ID24}`,
    run_id: 'tr-2',
    task_key: null,
    prompt: [USER],
    derived_tools: [],
    completion: [{ role: 'assistant', content: '5' }],
    repairs: [],
    label: false,
    split: 'train',
    provenance: provenance(),
    ...over,
  };
}

test('KtoSample: desirable and undesirable rows are accepted', () => {
  accept(KtoSample, kto());
  accept(KtoSample, kto({ label: true, completion: [{ role: 'assistant', content: '4' }], task_key: 't' }));
});

test('KtoSample: label must be a boolean; completion a non-empty continuation from an assistant turn; id well-formed', () => {
  assert.deepEqual(refuse(KtoSample, kto({ label: 'true' })), ['label: invalid_type']);
  assert.deepEqual(refuse(KtoSample, kto({ label: 1 })), ['label: invalid_type']);
  assert.deepEqual(refuse(KtoSample, kto({ completion: [] })), [
    'completion: too_small',
    'completion: custom',
  ]);
  assert.deepEqual(refuse(KtoSample, kto({ completion: [{ role: 'user', content: '5' }] })), [
    'completion: custom',
  ]);
  assert.deepEqual(refuse(KtoSample, kto({ id: `pref_${ID24}` })), ['id: invalid_format']);
});

// ---------------------------------------------------------------- stage receipt

function receipt(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    run_id: 'run-1',
    phase: 'build-evidence',
    code_version: 'unknown',
    schema_versions: { 'evidence-record': 1, 'quarantine-record': 1 },
    parameters: { max_line_bytes: 16777216, sources: ['gateway'] },
    inputs: [{ path: 'data/raw/gateway.jsonl', sha256: SHA_A, bytes: 100, rows: 3 }],
    outputs: [
      { path: 'data/evidence/run.jsonl', sha256: SHA_B, bytes: 0, rows: 0 },
      { path: 'data/evidence/_health.json', sha256: SHA_B, bytes: 10, rows: null },
    ],
    counts: { in: 3, out: 2, quarantined: 1, by_reason: { JSON_PARSE: 1 } },
    stats: { 'runs.accepted': 2 },
    started_at: TS,
    duration_ms: 12.5,
    ok: true,
    errors: [],
    ...over,
  };
}

test('StageReceipt: a receipt is accepted', () => {
  assert.deepEqual(accept(StageReceipt, receipt()), receipt());
});

test('StageReceipt: bad file entries, counts and timestamps are refused', () => {
  assert.deepEqual(
    refuse(StageReceipt, receipt({ inputs: [{ path: 'x', sha256: 'nope', bytes: 1, rows: null }] })),
    ['inputs.0.sha256: invalid_format'],
  );
  assert.deepEqual(
    refuse(StageReceipt, receipt({ outputs: [{ path: 'x', sha256: SHA_A, bytes: -1, rows: null }] })),
    ['outputs.0.bytes: too_small'],
  );
  assert.deepEqual(refuse(StageReceipt, receipt({ inputs: [{ path: 'x', sha256: SHA_A, bytes: 1 }] })), [
    'inputs.0.rows: invalid_type',
  ]);
  assert.deepEqual(
    refuse(StageReceipt, receipt({ counts: { in: 1, out: 1, quarantined: 0, by_reason: { X: 0.5 } } })),
    ['counts.by_reason.X: invalid_type'],
  );
  assert.deepEqual(refuse(StageReceipt, receipt({ schema_versions: { a: 1.5 } })), [
    'schema_versions.a: invalid_type',
  ]);
  assert.deepEqual(refuse(StageReceipt, receipt({ started_at: 'yesterday' })), [
    'started_at: invalid_format',
  ]);
  assert.deepEqual(refuse(StageReceipt, receipt({ duration_ms: -1 })), ['duration_ms: too_small']);
});

// ---------------------------------------------------------------- run summary

function summary(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    run_id: 'run-1',
    started_at: TS,
    finished_at: '2024-05-01T12:00:05.000Z',
    code_version: 'abc123',
    phases: [
      { phase: 'build-evidence', status: 'ran', receipt: 'reports/receipts/build-evidence.json' },
      { phase: 'score', status: 'fresh', receipt: null },
    ],
    funnel: {
      source_rows: 10,
      evidence: 9,
      quarantined: 1,
      runs: 6,
      runs_by_category: { accepted: 3, partially_accepted: 1, rejected: 1, needs_human_review: 1 },
      exports: { sft: 4, preference: 1 },
    },
    metrics: { 'funnel.source_rows': 10, 'mix.accepted': 50 },
    drift_severity: 'ok',
    ok: true,
    errors: [],
    ...over,
  };
}

test('RunSummary: a summary is accepted', () => {
  assert.deepEqual(accept(RunSummary, summary()), summary());
});

test('RunSummary: phase status, drift severity and negative funnel counts are checked', () => {
  assert.deepEqual(
    refuse(RunSummary, summary({ phases: [{ phase: 'score', status: 'skipped', receipt: null }] })),
    ['phases.0.status: invalid_value'],
  );
  assert.deepEqual(refuse(RunSummary, summary({ drift_severity: 'critical' })), [
    'drift_severity: invalid_value',
  ]);
  assert.deepEqual(
    refuse(RunSummary, summary({ funnel: { ...(summary()['funnel'] as object), runs: -1 } })),
    ['funnel.runs: too_small'],
  );
  assert.deepEqual(refuse(RunSummary, summary({ schema_version: 2 })), ['schema_version: invalid_value']);
  assert.deepEqual(refuse(RunSummary, summary({ metrics: { 'funnel.runs': 'six' } })), [
    'metrics.funnel.runs: invalid_type',
  ]);
});

// ---------------------------------------------------------------- drift report

function drift(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 1,
    run_id: 'run-2',
    previous_run_id: 'run-1',
    severity: 'warn',
    thresholds: { warn_pct: 10, alert_pct: 25 },
    metrics: [
      { name: 'accepted_rate', previous: 0.5, current: 0.56, delta: 0.06, delta_pct: 12, severity: 'warn' },
      { name: 'new_metric', previous: null, current: 3, delta: null, delta_pct: null, severity: 'ok' },
    ],
    ...over,
  };
}

test('DriftReport: a report, and a first run without a previous one, are accepted', () => {
  accept(DriftReport, drift());
  accept(DriftReport, drift({ previous_run_id: null, severity: 'ok', metrics: [] }));
});

test('DriftReport: unknown severities and missing thresholds are refused', () => {
  assert.deepEqual(refuse(DriftReport, drift({ severity: 'critical' })), ['severity: invalid_value']);
  assert.deepEqual(refuse(DriftReport, drift({ thresholds: { warn_pct: 10 } })), [
    'thresholds.alert_pct: invalid_type',
  ]);
  assert.deepEqual(
    refuse(
      DriftReport,
      drift({
        metrics: [{ name: 'x', previous: null, current: null, delta: null, delta_pct: null, severity: 'ok' }],
      }),
    ),
    ['metrics.0.current: invalid_type'],
  );
});

// ---------------------------------------------------------------- config

const SOURCE = { stream: 'gateway', adapter: 'auto', files: ['data/raw/gateway/*.jsonl'] };

test('DistillConfig: a minimal config gets every default filled in', () => {
  assert.deepEqual(accept(DistillConfig, { schema_version: 1, as_of: TS, sources: [SOURCE] }), {
    schema_version: 1,
    as_of: TS,
    future_skew_hours: 24,
    limits: { max_line_bytes: 16 * 1024 * 1024, max_depth: 64 },
    sources: [SOURCE],
    eval_sets: [],
    secret_allowlist: [],
    exports: { test_fraction: 0.1, rag_chunk_chars: 2000, preference_cap_per_task: 4 },
    replay: ReplayConfig.parse({}),
  });
});

test('DistillConfig: partial limits and exports keep the given values and default the rest', () => {
  const cfg = accept(DistillConfig, {
    $schema: './docs/schemas/distill-config.schema.json',
    schema_version: 1,
    as_of: TS,
    future_skew_hours: 0,
    limits: { max_depth: 16 },
    sources: [{ ...SOURCE, description: 'LLM gateway logs' }],
    eval_sets: ['data/eval/*.jsonl'],
    exports: { test_fraction: 0 },
  });
  assert.deepEqual(cfg.limits, { max_line_bytes: 16 * 1024 * 1024, max_depth: 16 });
  assert.deepEqual(cfg.exports, { test_fraction: 0, rag_chunk_chars: 2000, preference_cap_per_task: 4 });
  assert.equal(cfg.future_skew_hours, 0);
  assert.equal(cfg.$schema, './docs/schemas/distill-config.schema.json');
});

test('DistillConfig: wrong version, no sources, bad stream names, unknown keys and out-of-range values are refused', () => {
  const base = { schema_version: 1, as_of: TS, sources: [SOURCE] };
  assert.deepEqual(refuse(DistillConfig, { ...base, schema_version: 2 }), ['schema_version: invalid_value']);
  assert.deepEqual(refuse(DistillConfig, { ...base, sources: [] }), ['sources: too_small']);
  assert.deepEqual(refuse(DistillConfig, { schema_version: 1, as_of: TS }), ['sources: invalid_type']);
  assert.deepEqual(refuse(DistillConfig, { ...base, as_of: '2024-05-01' }), ['as_of: invalid_format']);
  assert.deepEqual(refuse(DistillConfig, { ...base, sources: [{ ...SOURCE, stream: 'Gate-Way' }] }), [
    'sources.0.stream: invalid_format',
  ]);
  assert.deepEqual(messages(DistillConfig, { ...base, sources: [{ ...SOURCE, stream: '1abc' }] }), [
    'stream names are lowercase snake_case',
  ]);
  assert.deepEqual(refuse(DistillConfig, { ...base, sources: [{ ...SOURCE, files: [] }] }), [
    'sources.0.files: too_small',
  ]);
  assert.deepEqual(refuse(DistillConfig, { ...base, limits: { max_depth: 0 } }), [
    'limits.max_depth: too_small',
  ]);
  assert.deepEqual(refuse(DistillConfig, { ...base, limits: { max_lines: 1 } }), [
    'limits: unrecognized_keys',
  ]);
  assert.deepEqual(refuse(DistillConfig, { ...base, exports: { test_fraction: 1.5 } }), [
    'exports.test_fraction: too_big',
  ]);
  assert.deepEqual(refuse(DistillConfig, { ...base, future_skew_hours: -1 }), [
    'future_skew_hours: too_small',
  ]);
  assert.deepEqual(refuse(DistillConfig, { ...base, outputs: 'x' }), [': unrecognized_keys']);
});
