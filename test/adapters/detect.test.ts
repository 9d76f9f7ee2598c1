import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Adapter } from '../../tasks/adapters/adapter.ts';
import { detectFormat, type FileSample } from '../../tasks/adapters/detect.ts';
import { ADAPTERS } from '../../tasks/adapters/registry.ts';
import { sniffByKeys } from '../../tasks/adapters/sniff-keys.ts';

const lines = (rows: Record<string, unknown>[], oneDocument = false): FileSample => ({
  kind: 'lines',
  rows,
  oneDocument,
  note: '',
});

test('detect: a gateway log is gateway-call, not the generic OpenAI chat log it also fits', () => {
  const row = {
    request_id: 'r',
    trace_id: 't',
    timestamp: 'x',
    request: { model: 'm', messages: [] },
    response: { choices: [] },
    error: null,
    metadata: {},
  };
  const d = detectFormat(lines([row, row]), ADAPTERS);
  assert.deepEqual(d.ok && [d.adapter, d.confidence], ['gateway-call', 1]);
  assert.deepEqual(
    d.candidates.slice(0, 2).map((c) => [c.adapter, c.confidence]),
    [
      ['gateway-call', 1],
      ['openai-chat-log', 0.9],
    ],
  );
});

test('detect: a minified .traj (one JSONL line) is still one JSON document for swe-agent', () => {
  const d = detectFormat(lines([{ trajectory: [], history: [], info: {} }], true), ADAPTERS);
  assert.deepEqual(d.ok && d.adapter, 'swe-agent');
  // the same row among many lines is not a document
  assert.equal(
    detectFormat(
      lines([
        { trajectory: [], history: [], info: {} },
        { trajectory: [], history: [], info: {} },
      ]),
      ADAPTERS,
    ).ok,
    false,
  );
});

test('detect: an adapter for another layout cannot win, and the message says why', () => {
  const sample: FileSample = {
    kind: 'array',
    rows: [{ type: 'user', uuid: 'u', parentUuid: null, sessionId: 's', timestamp: 'x', message: {} }],
    oneDocument: false,
    note: '',
  };
  const d = detectFormat(sample, ADAPTERS);
  assert.equal(d.ok, false);
  assert.equal(
    !d.ok && d.detail,
    'no adapter recognises a JSON array with this row (needs confidence ≥ 0.75); closest: claude-code 1.00 (Claude Code user line with 5/5 of uuid, parentUuid, sessionId, timestamp, message; it reads JSONL, this file is a JSON array)',
  );
});

test('detect: two adapters that fit almost equally are ambiguous, never a coin toss', () => {
  const a = (name: string, keys: string[]): Adapter => ({
    name,
    description: name,
    shape: 'jsonl',
    sniff: (r) => sniffByKeys(r, keys, name),
    toEvidence: () => ({ type: 'drop', reason: 'X', detail: 'x' }),
  });
  const d = detectFormat(lines([{ a: 1, b: 2, c: 3 }]), [
    a('one', ['a', 'b', 'c']),
    a('two', ['a', 'b', 'c', 'd']),
  ]);
  assert.equal(d.ok, true); // 1.00 vs 0.75
  const e = detectFormat(lines([{ a: 1, b: 2, c: 3 }]), [
    a('one', ['a', 'b', 'c']),
    a('two', ['a', 'b', 'c']),
  ]);
  assert.equal(
    !e.ok && e.detail,
    'ambiguous: one 1.00 (has all 3 one keys) and two 1.00 (has all 3 two keys) fit almost equally (a lead of 0.1 is needed)',
  );
});

test('detect: a file without rows says what it is', () => {
  assert.deepEqual(
    detectFormat({ kind: 'not-json', rows: [], oneDocument: false, note: 'starts with "t"' }, ADAPTERS),
    { ok: false, detail: 'starts with "t"', candidates: [] },
  );
});

test('detect: a file decides by the majority of its rows: lines no reader knows (a newer line type) do not stop it', () => {
  const reward = { trace_id: 't', timestamp: 'x', environment: 'e', reward: 1 };
  const odd = { kind: 'heartbeat', seq: 1 };
  // 3 of 5 rows are rewards: the mean (0.6) is below the threshold, the majority is clear
  const d = detectFormat(lines([reward, odd, reward, odd, reward]), ADAPTERS);
  assert.deepEqual(d.ok && [d.adapter, d.confidence], ['reward', 0.6]);
  assert.match(d.ok ? d.reason : '', /best fit of 3 of the 5 sampled rows/);
  // without a majority the file stays unknown
  assert.equal(detectFormat(lines([reward, odd, odd]), ADAPTERS).ok, false);
});
