import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADAPTERS, getAdapter } from '../../tasks/adapters/registry.ts';
import { tauBench } from '../../tasks/adapters/tau-bench.ts';

/** One typical row per adapter, as its source writes it. */
const SAMPLES: Record<string, Record<string, unknown>> = {
  'agent-trajectory': {
    trace_id: 't',
    timestamp: 'x',
    agent: 'repo-fixer',
    model: 'm',
    messages: [],
    tools: [],
    usage: {},
    steps: 2,
  },
  'auditor-verdict': { trace_id: 't', timestamp: 'x', auditor: 'a', verdict: 'pass', confidence: 0.9 },
  'error-event': {
    event_id: 'e',
    trace_id: 't',
    occurred_at: 1,
    severity: 'error',
    service: 's',
    error_type: 'x',
    message: 'm',
  },
  'gateway-call': {
    request_id: 'r',
    trace_id: 't',
    timestamp: 'x',
    request: {},
    response: null,
    error: {},
    latency_ms: 1,
    metadata: {},
  },
  'human-review': { review_id: 'r', trace_id: 't', timestamp: 'x', reviewer: 'm', decision: 'approve' },
  'knowledge-doc': {
    id: 'kb/x',
    revision: 1,
    kind: 'faq',
    title: 'T',
    url: 'u',
    sections: [],
    labels: [],
    last_modified: 'x',
  },
  'pairwise-preference': { instruction: 'i', output_1: 'a', output_2: 'b', preference: 1 },
  playbook: {
    playbook_id: 'p',
    version: 1,
    title: 'T',
    body_markdown: 'b',
    tags: [],
    owner: 'o',
    updated_at: 'x',
  },
  reward: { trace_id: 't', timestamp: 'x', environment: 'e', reward: 1 },
  'tau-bench': { task_id: 0, reward: 1, info: {}, traj: [], trial: 0 },
  'test-result': { trace_id: 't', timestamp: 'x', runner: 'pytest', suite: 's', passed: 1, failed: 0 },
  'tool-outcome': { trace_id: 't', timestamp: 'x', tool: 'pytest', command: 'c', exit_code: 0 },
  'anthropic-messages': {
    request: { model: 'm', system: 's', messages: [] },
    response: { type: 'message', content: [], stop_reason: 'end_turn' },
  },
  'claude-code': {
    type: 'user',
    uuid: 'u',
    parentUuid: null,
    sessionId: 's',
    timestamp: 'x',
    message: { role: 'user', content: 'hi' },
  },
  codex: { timestamp: 'x', type: 'response_item', payload: { type: 'message' } },
  'hh-rlhf': { chosen: '\n\nHuman: a\n\nAssistant: b', rejected: '\n\nHuman: a\n\nAssistant: c' },
  langfuse: { id: 'o', trace_id: 't', type: 'GENERATION', start_time: 'x', input: 'a', output: 'b' },
  langsmith: { id: 'r', run_type: 'llm', trace_id: 't', dotted_order: 'd', inputs: {}, outputs: {} },
  litellm: {
    request_id: 'r',
    call_type: 'acompletion',
    model: 'm',
    startTime: 'x',
    endTime: 'y',
    messages: [],
    response: {},
  },
  'openai-chat-log': {
    request: { model: 'm', messages: [] },
    response: { object: 'chat.completion', choices: [] },
  },
  'openai-stored-completion': {
    object: 'chat.completion',
    id: 'c',
    created: 1,
    model: 'm',
    choices: [],
    messages: [],
  },
  'otel-genai': {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: 'a',
                spanId: 'b',
                attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }],
              },
            ],
          },
        ],
      },
    ],
  },
  'swe-agent': { trajectory: [], history: [], info: {} },
  'swe-bench-report': {
    resolved_ids: ['a__b-1'],
    unresolved_ids: [],
    error_ids: [],
    completed_ids: ['a__b-1'],
    schema_version: 2,
  },
};

/** Generic formats that a more specific bundled adapter also matches, capped below 1 so it wins. */
const GENERIC_MAX: Record<string, number> = { 'openai-chat-log': 0.9 };

test('registry: every adapter, sorted by name, names unique', () => {
  const names = ADAPTERS.map((a) => a.name);
  assert.deepEqual(names, Object.keys(SAMPLES).sort());
  assert.deepEqual(names, [...new Set(names)].sort());
});

test('registry: getAdapter finds by exact name only', () => {
  assert.equal(getAdapter('tau-bench'), tauBench);
  assert.equal(getAdapter('Tau-Bench'), undefined);
  assert.equal(getAdapter('auto'), undefined);
});

test('registry: every adapter is the single most confident sniffer of its own sample row', () => {
  for (const [name, row] of Object.entries(SAMPLES)) {
    const scores = ADAPTERS.map((a) => ({ name: a.name, confidence: a.sniff(row).confidence })).sort(
      (a, b) => b.confidence - a.confidence,
    );
    assert.equal(scores[0]?.name, name, `best sniffer of the ${name} sample`);
    assert.equal(scores[0]?.confidence, GENERIC_MAX[name] ?? 1, name);
    assert.ok(
      (scores[1]?.confidence ?? 0) <= 0.5,
      `${name}: runner-up ${scores[1]?.name} at ${scores[1]?.confidence}`,
    );
  }
});

test('registry: every adapter describes itself and reads a known file shape', () => {
  for (const a of ADAPTERS) {
    assert.ok(a.description.length > 20, a.name);
    assert.ok(['jsonl', 'json-array', 'json-document', 'jsonl-session'].includes(a.shape), a.name);
    // a session adapter reads whole files; a row adapter never does
    assert.equal(a.shape === 'jsonl-session', typeof a.toEvidenceFile === 'function', a.name);
  }
  assert.deepEqual(
    ADAPTERS.filter((a) => a.shape !== 'jsonl').map((a) => [a.name, a.shape]),
    [
      ['claude-code', 'jsonl-session'],
      ['codex', 'jsonl-session'],
      ['langfuse', 'jsonl-session'],
      ['langsmith', 'jsonl-session'],
      ['swe-agent', 'json-document'],
      ['swe-bench-report', 'json-document'],
      ['tau-bench', 'json-array'],
    ],
  );
});
