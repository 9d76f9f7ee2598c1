import { isoUtc } from './clock.ts';
import type { IdMint } from './prng.ts';
import type { Stream } from './streams.ts';

/**
 * Deliberately bad rows, mixed into the normal streams (about 1% of rows) so every run of the
 * pipeline exercises its quarantine. Each kind names the reason it should be dropped for; the
 * corpus test holds the list to that.
 */
export const BAD_ROW_KINDS = [
  { kind: 'malformed_json', stream: 'gateway_calls', expect: 'JSON_PARSE' },
  { kind: 'missing_trace_id', stream: 'human_reviews', expect: 'SCHEMA_MISSING_FIELD' },
  { kind: 'passed_as_string', stream: 'test_results', expect: 'SCHEMA_TYPE' },
  { kind: 'invalid_timestamp', stream: 'gateway_calls', expect: 'INVALID_TIMESTAMP' },
  { kind: 'duplicate_key', stream: 'tool_outcomes', expect: 'DUPLICATE_KEY' },
  { kind: 'unknown_verdict', stream: 'auditor_verdicts', expect: 'SCHEMA_ENUM' },
  { kind: 'not_an_object', stream: 'rewards', expect: 'NOT_AN_OBJECT' },
  { kind: 'preference_out_of_range', stream: 'preference_judgments', expect: 'PREFERENCE_INVALID' },
  { kind: 'messages_not_array', stream: 'agent_trajectories', expect: 'SCHEMA_TYPE' },
  { kind: 'unknown_role', stream: 'gateway_calls', expect: 'SCHEMA_ENUM' },
  { kind: 'reward_out_of_range', stream: 'rewards', expect: 'SCHEMA_INVALID' },
  { kind: 'edit_without_correction', stream: 'human_reviews', expect: 'SCHEMA_MISSING_FIELD' },
  { kind: 'future_timestamp', stream: 'error_events', expect: 'FUTURE_TIMESTAMP' },
  { kind: 'empty_playbook', stream: 'playbooks', expect: 'EMPTY_DOCUMENT' },
] as const satisfies ReadonlyArray<{ kind: string; stream: Stream; expect: string }>;

/** One bad-row kind. */
export type BadRowKind = (typeof BAD_ROW_KINDS)[number];

function gatewayRow(
  traceId: string,
  requestId: string,
  timestamp: string,
  role = 'user',
): Record<string, unknown> {
  return {
    request_id: requestId,
    trace_id: traceId,
    timestamp,
    request: {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role, content: 'What is our refund window?' },
      ],
    },
    response: {
      id: 'chatcmpl-bad',
      object: 'chat.completion',
      model: 'gpt-4o-2024-08-06',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Refunds are accepted within 30 days of delivery.' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 30, completion_tokens: 11, total_tokens: 41 },
    },
    error: null,
    latency_ms: 812,
    metadata: { tier: 'cloud', provider: 'openai', app: 'support-chat' },
  };
}

/** The raw line text (no newline) of one bad row. */
export function badRowText(bad: BadRowKind, atMs: number, ids: IdMint): string {
  const trace = ids.next('tr_');
  const ts = isoUtc(atMs);
  switch (bad.kind) {
    case 'malformed_json': {
      const s = JSON.stringify(gatewayRow(trace, ids.next('req_'), ts));
      return s.slice(0, Math.floor(s.length * 0.6)); // a torn write: the object never closes
    }
    case 'missing_trace_id':
      return JSON.stringify({
        review_id: ids.next('rv_'),
        timestamp: ts,
        reviewer: 'm.chen',
        decision: 'approve',
      });
    case 'passed_as_string':
      return JSON.stringify({
        trace_id: trace,
        timestamp: ts,
        runner: 'pytest',
        suite: 'tests/test_slugify.py',
        passed: '12',
        failed: 0,
      });
    case 'invalid_timestamp':
      return JSON.stringify(gatewayRow(trace, ids.next('req_'), '2026-02-30T10:00:00Z'));
    case 'duplicate_key':
      return `{"trace_id":"${trace}","timestamp":"${ts}","tool":"pytest","exit_code":0,"command":"pytest -q","exit_code":1}`;
    case 'unknown_verdict':
      return JSON.stringify({
        trace_id: trace,
        timestamp: ts,
        auditor: 'policy-auditor-v3',
        verdict: 'maybe',
        confidence: 0.5,
      });
    case 'not_an_object':
      return JSON.stringify([trace, 1]);
    case 'preference_out_of_range':
      return JSON.stringify({
        instruction: 'Summarise the refund policy in one sentence.',
        output_1: 'Refunds within 30 days of delivery.',
        output_2: 'Refunds any time.',
        preference: 3,
        annotator: 'human:rater-02',
      });
    case 'messages_not_array':
      return JSON.stringify({
        trace_id: trace,
        timestamp: ts,
        agent: 'repo-fixer',
        model: 'gpt-4o-2024-08-06',
        messages: 'see attached transcript',
        tools: [],
        usage: { prompt_tokens: 10, completion_tokens: 5 },
        steps: 0,
      });
    case 'unknown_role':
      return JSON.stringify(gatewayRow(trace, ids.next('req_'), ts, 'narrator'));
    case 'reward_out_of_range':
      return JSON.stringify({ trace_id: trace, timestamp: ts, environment: 'sql-sandbox', reward: 1.7 });
    case 'edit_without_correction':
      return JSON.stringify({
        review_id: ids.next('rv_'),
        trace_id: trace,
        timestamp: ts,
        reviewer: 'k.okafor',
        decision: 'edit',
        comment: 'fixed it',
      });
    case 'future_timestamp':
      return JSON.stringify({
        event_id: ids.next('evt_'),
        trace_id: trace,
        occurred_at: Date.UTC(2027, 0, 15, 9, 30),
        severity: 'error',
        service: 'llm-gateway',
        error_type: 'clock_skew',
        message: 'host clock ahead',
      });
    case 'empty_playbook':
      return JSON.stringify({
        playbook_id: 'pb-draft',
        version: 1,
        title: 'Draft',
        body_markdown: '   ',
        tags: [],
        owner: 'support-ops',
        updated_at: ts,
      });
  }
}
