import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayConfig } from '../../schemas/replay-config.ts';
import type { ReplayCall } from '../../schemas/replay-call.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import { callModel, probeModel } from '../../tasks/replay/client.ts';
import { runReplay, type ReplayRequest } from '../../tasks/replay/replay.ts';
import type { Retrieved } from '../../tasks/replay/retrieve.ts';
import { closedPortUrl, completion, startFakeServer, type FakeReply } from './fake-openai-server.ts';

// These tests talk HTTP to a small OpenAI-compatible server started on 127.0.0.1 with node:http
// (test/replay/fake-openai-server.ts). It stands in for the model's HTTP contract only; no model runs.

const A = 'rag_aaaaaaaaaaaaaaaaaaaaaaaa';
const docs: Retrieved[] = [
  {
    rank: 1,
    id: A,
    score: 3.5,
    kind: 'run',
    task_key: 'support:refunds',
    trace_id: 'tr_1',
    title: '',
    text: 'Task: Refund window?\n\nAnswer: 30 days from delivery.',
  },
];
const req = (over: Partial<ReplayRequest> = {}): ReplayRequest => ({
  command: 'replay',
  taskId: null,
  task: 'How long is the refund window?',
  kind: 'text',
  retrieved: docs,
  allowEscalation: false,
  ...over,
});
const fixedNow = () => new Date('2026-11-01T12:00:00.000Z');

function settingsFor(local: string, escalation = '', over: { localTimeout?: number } = {}) {
  return ReplayConfig.parse({
    local: { base_url: local, model: 'qwen2.5:7b-instruct', timeout_ms: over.localTimeout ?? 5000 },
    escalation: {
      base_url: escalation,
      model: escalation ? 'strong-model' : '',
      api_key_env: escalation ? 'TEST_ESCALATION_KEY' : '',
    },
    max_tokens: 256,
  });
}

async function replayWith(
  local: string,
  escalation: string,
  request: ReplayRequest,
  env: Record<string, string> = {},
  over: { localTimeout?: number } = {},
) {
  const rows: ReplayCall[] = [];
  const out = await runReplay(
    settingsFor(local, escalation, over),
    request,
    env,
    async (r) => void rows.push(r),
    fixedNow,
  );
  return { out, rows };
}

const reply =
  (content: string, extra: Partial<FakeReply> = {}) =>
  () => ({ body: completion(content), ...extra });

test('success: the local answer cites a retrieved document; the request carries the prompt and sampling settings; one log row', async () => {
  const local = await startFakeServer(reply(`Refunds are accepted for 30 days after delivery [${A}].`));
  try {
    const { out, rows } = await replayWith(local.baseUrl, '', req());
    assert.deepEqual(out.final, {
      ok: true,
      answer: `Refunds are accepted for 30 days after delivery [${A}].`,
      groundedOn: [A],
      endpoint: 'local',
    });
    assert.equal(local.requests.length, 1);
    const sent = local.requests[0]!;
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal(sent.authorization, 'Bearer not-needed');
    assert.deepEqual(
      { ...sent.body, messages: undefined },
      { model: 'qwen2.5:7b-instruct', temperature: 0, max_tokens: 256, seed: 0, messages: undefined },
    );
    assert.deepEqual(sent.body?.['messages'], out.prompt.messages);
    assert.equal(rows.length, 1);
    const { latency_ms, ...row } = rows[0]!;
    assert.ok(Number.isInteger(latency_ms) && latency_ms >= 0);
    assert.deepEqual(row, {
      schema_version: 1,
      at: '2026-11-01T12:00:00.000Z',
      command: 'replay',
      task_id: null,
      task_sha256: sha256('How long is the refund window?'),
      task: 'How long is the refund window?',
      kind: 'text',
      arm: 'retrieval',
      retrieved_ids: [A],
      context_ids: [A],
      endpoint: 'local',
      base_url: local.baseUrl,
      model: 'qwen2.5:7b-instruct',
      served_model: 'fake-model',
      temperature: 0,
      seed: 0,
      max_tokens: 256,
      timeout_ms: 5000,
      prompt_tokens: 100,
      completion_tokens: 20,
      finish_reason: 'stop',
      error: null,
      validation: { ok: true, reason: null, detail: null, grounded_on: [A] },
      escalated: false,
      escalation_reason: null,
    });
  } finally {
    await local.close();
  }
});

test('invalid local answer → escalation: the stronger model is called with the same prompt and its key; both calls are logged', async () => {
  const local = await startFakeServer(reply('Refunds are accepted for 30 days.'));
  const strong = await startFakeServer(
    reply(`30 days from delivery [${A}].`, {
      body: completion(`30 days from delivery [${A}].`, { model: 'strong-model-2026' }),
    }),
  );
  try {
    const { out, rows } = await replayWith(local.baseUrl, strong.baseUrl, req({ allowEscalation: true }), {
      TEST_ESCALATION_KEY: 'sk-test-123',
    });
    assert.deepEqual(out.final, {
      ok: true,
      answer: `30 days from delivery [${A}].`,
      groundedOn: [A],
      endpoint: 'escalation',
    });
    assert.equal(strong.requests[0]?.authorization, 'Bearer sk-test-123');
    assert.deepEqual(strong.requests[0]?.body?.['messages'], local.requests[0]?.body?.['messages']);
    assert.equal(strong.requests[0]?.body?.['model'], 'strong-model');
    assert.deepEqual(
      rows.map((r) => [
        r.endpoint,
        r.base_url,
        r.escalated,
        r.escalation_reason,
        r.validation?.ok,
        r.validation?.reason,
        r.served_model,
      ]),
      [
        ['local', local.baseUrl, false, null, false, 'NO_CITATION', 'fake-model'],
        ['escalation', strong.baseUrl, true, 'NO_CITATION', true, null, 'strong-model-2026'],
      ],
    );
    assert.ok(!JSON.stringify(rows).includes('sk-test-123'), 'the API key is never logged');
  } finally {
    await local.close();
    await strong.close();
  }
});

test('without --allow-escalation an invalid answer is the final result, with the reason', async () => {
  const local = await startFakeServer(reply("I'm sorry, but I can't help with that."));
  try {
    const { out, rows } = await replayWith(local.baseUrl, '', req());
    assert.deepEqual(out.final, {
      ok: false,
      failure: 'invalid',
      answer: "I'm sorry, but I can't help with that.",
      messages: [
        'local model qwen2.5:7b-instruct: the answer failed validation (REFUSAL: the reply is refusal boilerplate: "I\'m sorry, but I can\'t help with that.")',
      ],
    });
    assert.equal(rows.length, 1);
  } finally {
    await local.close();
  }
});

test('local unreachable (closed port) → escalation answers; the log names the error and how to start a local model', async () => {
  const closed = await closedPortUrl();
  const strong = await startFakeServer(reply(`30 days [${A}].`));
  try {
    const { out, rows } = await replayWith(closed, strong.baseUrl, req({ allowEscalation: true }), {
      TEST_ESCALATION_KEY: 'k',
    });
    assert.equal(out.final.ok, true);
    assert.equal(rows[0]?.error?.code, 'UNREACHABLE');
    assert.equal(
      rows[0]?.error?.message,
      `no model server reachable at ${closed} (ECONNREFUSED). Start one, e.g. \`ollama serve\` then \`ollama pull qwen2.5:7b-instruct\` (or a llama.cpp server, vLLM or LM Studio), or point DISTILL_LOCAL_BASE_URL / replay.local.base_url at a running OpenAI-compatible server.`,
    );
    assert.deepEqual(
      [rows[0]?.validation, rows[0]?.prompt_tokens, rows[1]?.escalated, rows[1]?.escalation_reason],
      [null, null, true, 'UNREACHABLE'],
    );
  } finally {
    await strong.close();
  }
});

test('timeout: a server slower than timeout_ms gives TIMEOUT with the setting to raise', async () => {
  const slow = await startFakeServer(() => ({ body: completion('late'), delayMs: 3000 }));
  try {
    const t0 = performance.now();
    const { out, rows } = await replayWith(slow.baseUrl, '', req(), {}, { localTimeout: 300 });
    assert.ok(performance.now() - t0 < 2500, 'gave up at the timeout');
    assert.deepEqual(out.final, {
      ok: false,
      failure: 'model',
      answer: null,
      messages: [
        `local model qwen2.5:7b-instruct at ${slow.baseUrl} did not answer within 300 ms (replay.local.timeout_ms / DISTILL_LOCAL_TIMEOUT_MS). A first call may be loading the model: retry, or raise the timeout.`,
      ],
    });
    assert.equal(rows[0]?.error?.code, 'TIMEOUT');
  } finally {
    await slow.close();
  }
});

test('invalid JSON from the server, or a body that is not a chat completion, is INVALID_RESPONSE', async () => {
  const broken = await startFakeServer(() => ({ body: '{"id": "x", "choices": [ {' }));
  const html = await startFakeServer(() => ({ body: '<html>proxy login</html>', contentType: 'text/html' }));
  const empty = await startFakeServer(() => ({ body: { id: 'x', choices: [] } }));
  try {
    const s = settingsFor(broken.baseUrl);
    const p = { temperature: 0, seed: 0, maxTokens: 10 };
    const m = [{ role: 'user' as const, content: 'hi' }];
    const r1 = (await callModel('local', s.local, m, p, {})).result;
    assert.equal(r1.ok, false);
    assert.equal((r1 as { error: { code: string } }).error.code, 'INVALID_RESPONSE');
    assert.match(
      (r1 as { error: { message: string } }).error.message,
      new RegExp(
        `^local model qwen2\\.5:7b-instruct at ${broken.baseUrl.replace(/\./g, '\\.')} returned a body that is not valid JSON \\(.+\\); expected an OpenAI-compatible /chat/completions response$`,
      ),
    );
    const r2 = (await callModel('local', { ...s.local, base_url: html.baseUrl }, m, p, {})).result;
    assert.deepEqual(r2, {
      ok: false,
      error: {
        code: 'INVALID_RESPONSE',
        message: `local model qwen2.5:7b-instruct at ${html.baseUrl} returned something that is not a chat completion ((root): Invalid input: expected object, received string); got text "<html>proxy login</html>"`,
      },
    });
    const r3 = (await callModel('local', { ...s.local, base_url: empty.baseUrl }, m, p, {})).result;
    assert.deepEqual(r3, {
      ok: false,
      error: {
        code: 'INVALID_RESPONSE',
        message: `local model qwen2.5:7b-instruct at ${empty.baseUrl} returned something that is not a chat completion (choices: Too small: expected array to have >=1 items); got {"id":"x","choices":[]}`,
      },
    });
  } finally {
    await broken.close();
    await html.close();
    await empty.close();
  }
});

test('a model the server does not have is MODEL_NOT_FOUND with the pull command; a refused key is AUTH', async () => {
  const server = await startFakeServer((b) =>
    b['model'] === 'strong-model'
      ? { status: 401, body: { error: { message: 'Incorrect API key provided' } } }
      : {
          status: 404,
          body: { error: { message: 'model "qwen2.5:7b-instruct" not found, try pulling it first' } },
        },
  );
  try {
    const { out } = await replayWith(server.baseUrl, server.baseUrl, req({ allowEscalation: true }), {
      TEST_ESCALATION_KEY: 'bad',
    });
    assert.deepEqual(out.final, {
      ok: false,
      failure: 'model',
      answer: null,
      messages: [
        `local model qwen2.5:7b-instruct at ${server.baseUrl}: HTTP 404 (model "qwen2.5:7b-instruct" not found, try pulling it first). The model is not there or the base URL is wrong (it usually ends in /v1). If it is Ollama: \`ollama pull qwen2.5:7b-instruct\`.`,
        `escalation model strong-model at ${server.baseUrl} refused the API key (HTTP 401: Incorrect API key provided); check the variable named by replay.escalation.api_key_env / DISTILL_ESCALATION_API_KEY_ENV`,
      ],
    });
  } finally {
    await server.close();
  }
});

test('a missing API key variable or an unconfigured escalation model fails without any request', async () => {
  const local = await startFakeServer(reply('no citation here'));
  try {
    const { out, rows } = await replayWith(local.baseUrl, local.baseUrl, req({ allowEscalation: true }), {});
    assert.equal(local.requests.length, 1, 'only the local call went out');
    assert.deepEqual(rows[1]?.error, {
      code: 'NO_API_KEY',
      message:
        'escalation model: the API key variable TEST_ESCALATION_KEY (named by replay.escalation.api_key_env / DISTILL_ESCALATION_API_KEY_ENV) is not set; export it, or name another variable',
    });
    assert.equal(out.final.ok, false);
    const unconfigured = await callModel(
      'escalation',
      settingsFor(local.baseUrl).escalation,
      [],
      { temperature: 0, seed: null, maxTokens: 1 },
      {},
    );
    assert.deepEqual(unconfigured, {
      latencyMs: 0,
      result: {
        ok: false,
        error: {
          code: 'NOT_CONFIGURED',
          message:
            'no escalation model configured: set replay.escalation.base_url and replay.escalation.model in distill.config.json, or DISTILL_ESCALATION_BASE_URL and DISTILL_ESCALATION_MODEL (and DISTILL_ESCALATION_API_KEY_ENV = the name of the variable holding its key)',
        },
      },
    });
  } finally {
    await local.close();
  }
});

test('seed null is not sent; without retrieval no document is cited or needed', async () => {
  const local = await startFakeServer(reply('Thirty days.'));
  try {
    const rows: ReplayCall[] = [];
    const s = { ...settingsFor(local.baseUrl), seed: null };
    const out = await runReplay(s, req({ retrieved: null }), {}, async (r) => void rows.push(r), fixedNow);
    assert.deepEqual(out.final, { ok: true, answer: 'Thirty days.', groundedOn: [], endpoint: 'local' });
    assert.equal('seed' in (local.requests[0]?.body ?? {}), false);
    assert.deepEqual([rows[0]?.arm, rows[0]?.retrieved_ids, rows[0]?.seed], ['no-retrieval', [], null]);
  } finally {
    await local.close();
  }
});

test('probeModel: a server that answers lists its models; a closed port is UNREACHABLE', async () => {
  const server = await startFakeServer(reply('x'), ['b-model', 'a-model']);
  try {
    assert.deepEqual(await probeModel('local', settingsFor(server.baseUrl).local, {}), {
      error: null,
      models: ['a-model', 'b-model'],
    });
  } finally {
    await server.close();
  }
  const closed = await closedPortUrl();
  const probe = await probeModel('local', settingsFor(closed).local, {});
  assert.equal(probe.error?.code, 'UNREACHABLE');
  assert.match(
    probe.error?.message ?? '',
    /^no model server reachable at http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\)\. Start one, e\.g\. `ollama serve`/,
  );
});
