import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReplayCall } from '../../schemas/replay-call.ts';
import { SftSample } from '../../schemas/sft-sample.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import { helpText } from '../../tasks/cli/commands.ts';
import { loadRagIndex } from '../../tasks/replay/load-index.ts';
import { buildIndexFiles, referenceMiniSearch, toIndexedDoc } from '../../tasks/lib/rag-index.ts';
import type { RagSample } from '../../schemas/rag-sample.ts';
import { isRefusal } from '../../tasks/replay/validate.ts';
import { builtProject } from '../helpers/built.ts';
import { inProcess, tempProject } from '../helpers/project.ts';
import { closedPortUrl, completion, startFakeServer } from './fake-openai-server.ts';
import { runDoc } from './fixture.ts';

// Model calls here go to a small OpenAI-compatible server started on 127.0.0.1 with node:http
// (test/replay/fake-openai-server.ts): it stands in for the model's HTTP contract only.

const read = (root: string, rel: string): string => readFileSync(join(root, rel), 'utf8');
const TASK = 'Per month, what share of orders in shop_eu.orders had status refunded?';

/**
 * A temp copy of the bundled corpus built by every pipeline phase (the exports and index-rag
 * included; test/helpers/built.ts builds it once per suite). Tests that write (logs, a rebuilt
 * index) take their own copy; the others read this one.
 */
const shared = builtProject('all', 'distill-replay-');
/** A copy of the built project (so tests that write logs do not see each other's rows). */
const copyOf = async (): Promise<string> => builtProject('all', 'distill-replay-');

test('help lists index-rag, replay and replay-eval', () => {
  const help = helpText(100).replace(/\n {4,}/g, ' ');
  assert.match(help, /\n {2}index-rag +BM25 retrieval index over exports\/rag\//);
  assert.match(
    help,
    /\n {2}replay --task "<input>" \[--kind text\|json\] \[--no-retrieval\] \[--allow-escalation\] \[--dry-run\] \[--k N\] \[--json\] +Answer a task/,
  );
  assert.match(
    help,
    /\n {2}replay-eval \[--k N\] \[--kind text\|json\] \[--limit N\] \[--require-model\] \[--json\] +Held-out test tasks/,
  );
});

test('index-rag before export-rag, and replay before index-rag, say which command builds what is missing', async () => {
  const fresh = tempProject('distill-replay-');
  const r1 = await inProcess(['index-rag', '--root', fresh]);
  assert.equal(r1.code, 2);
  assert.match(
    r1.stderr,
    /✖ index-rag: exports\/rag\/_manifest\.json not found: build it first with `npm run export-rag` \[UPSTREAM_MISSING\]\n/,
  );
  const r2 = await inProcess(['replay', '--task', TASK, '--dry-run', '--root', fresh]);
  assert.equal(r2.code, 2);
  assert.equal(
    r2.stderr,
    '✖ no retrieval index at data/rag-index/ (stats.json not found): build it with `npm run index-rag` (or `distill export-rag && distill index-rag`), or run without retrieval (--no-retrieval) [UPSTREAM_MISSING]\n',
  );
});

test('index-rag writes one segment per RAG shard, stats.json and _manifest.json (input = the RAG export), byte-identical on a rebuild', async () => {
  const root = await copyOf();
  const manifest = JSON.parse(read(root, 'data/rag-index/_manifest.json'));
  const rag = JSON.parse(read(root, 'exports/rag/_manifest.json'));
  assert.equal(manifest.phase, 'index-rag');
  // every day shard of the RAG documents
  const shards = rag.files.filter((f: { path: string }) =>
    /^exports\/rag\/documents\/[^/]+\.jsonl$/.test(f.path),
  );
  assert.ok(shards.length > 1, 'the RAG export has several day shards');
  assert.deepEqual(manifest.inputs, shards);
  assert.deepEqual(
    manifest.files.map((f: { path: string }) => f.path).sort(),
    [
      ...shards.map((f: { path: string }) =>
        f.path.replace('exports/rag/documents/', 'data/rag-index/segments/'),
      ),
      'data/rag-index/stats.json',
    ].sort(),
  );
  const documents = shards.reduce((n: number, f: { rows: number }) => n + f.rows, 0);
  assert.equal(manifest.counts.documents, documents);
  assert.equal(JSON.parse(read(root, 'data/rag-index/stats.json')).documents, documents);
  const before = read(root, 'data/rag-index/_manifest.json');
  const again = await inProcess(['index-rag', '--root', root]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`incremental: 0 built, ${shards.length} unchanged reused`));
  assert.equal(read(root, 'data/rag-index/_manifest.json'), before, 'every file digest is the same');
  const cold = await inProcess(['index-rag', '--root', root], { env: { DISTILL_EXPORT_INCREMENTAL: '0' } });
  assert.equal(cold.code, 0, cold.stderr);
  assert.doesNotMatch(cold.stderr, /incremental/);
  assert.equal(read(root, 'data/rag-index/_manifest.json'), before);
});

test('index-rag over the bundled corpus scores every query as MiniSearch over every row; shards out of id order, bad rows and changed bytes', async () => {
  const root = await copyOf();
  const dir = 'exports/rag/documents';
  const files = readdirSync(join(root, dir)).sort();
  const rows = files
    .flatMap((f) => read(root, `${dir}/${f}`).split('\n'))
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RagSample);
  const ms = referenceMiniSearch(rows.map(toIndexedDoc));
  const { index } = await loadRagIndex(root);
  // every row's task (or title) and the first words of its text, as queries
  const queries = rows.flatMap((r) => [toIndexedDoc(r).task, r.text.split(/\s+/).slice(0, 12).join(' ')]);
  let hits = 0;
  for (const q of queries) {
    const want = ms
      .search(q)
      .map((h) => ({ id: String(h.id), score: h.score }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    const got = index.search(q).map((h) => ({ id: h.id, score: h.score }));
    assert.deepEqual(got, want, q);
    hits += got.length;
  }
  assert.ok(hits > queries.length);
  const segmentsBefore = read(root, 'data/rag-index/_manifest.json');
  // a shard out of id order (the export writes each sorted; a hand-made file may not be): the same segment
  const shard = `${dir}/${files.find((f) => read(root, `${dir}/${f}`).split('\n').filter(Boolean).length > 1)}`;
  const own = read(root, shard)
    .split('\n')
    .filter((l) => l !== '');
  const reversed = `${[...own].reverse().join('\n')}\n`;
  writeFileSync(join(root, shard), reversed);
  const manifest = JSON.parse(read(root, 'exports/rag/_manifest.json'));
  const entry = manifest.files.find((f: { path: string }) => f.path === shard);
  entry.sha256 = sha256(reversed);
  writeFileSync(join(root, 'exports/rag/_manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const unsorted = await inProcess(['index-rag', '--root', root]);
  assert.equal(unsorted.code, 0, unsorted.stderr);
  assert.match(unsorted.stderr, /incremental: 1 built/);
  const strip = (m: string): unknown => JSON.parse(m).files;
  assert.deepEqual(strip(read(root, 'data/rag-index/_manifest.json')), strip(segmentsBefore));
  // every row is checked: a bad last line of a shard is named with the shard's own line
  const badLast = `${reversed}{"id":\n`;
  writeFileSync(join(root, shard), badLast);
  entry.sha256 = sha256(badLast);
  writeFileSync(join(root, 'exports/rag/_manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const bad = await inProcess(['index-rag', '--root', root]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    new RegExp(
      `${shard.replace(/[.]/g, '\\.')}:${own.length + 1} is not valid JSON \\(.+\\); rebuild it with \`npm run export-rag\``,
    ),
  );
  // a changed byte is refused before anything is written
  writeFileSync(join(root, shard), `${reversed} `);
  const changed = await inProcess(['index-rag', '--root', root]);
  assert.equal(changed.code, 2);
  assert.match(
    changed.stderr,
    new RegExp(
      `${shard.replace(/[.]/g, '\\.')} does not match exports/rag/_manifest\\.json \\(sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\\): it was changed by hand or half-written; rebuild with \`npm run export-rag\``,
    ),
  );
  assert.deepEqual(strip(read(root, 'data/rag-index/_manifest.json')), strip(segmentsBefore));
  // the published bytes less their final newline, or plus a blank line, or with CRLF line ends:
  // not the published file either, although its rows are the same
  entry.sha256 = sha256(reversed);
  writeFileSync(join(root, 'exports/rag/_manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const text of [reversed.slice(0, -1), `${reversed}\n`, reversed.replace(/\n/g, '\r\n')]) {
    writeFileSync(join(root, shard), text);
    rmSync(join(root, '.distill/cache/exports/index-rag.json'), { force: true }); // else the shard's segment is reused unread
    const other = await inProcess(['index-rag', '--root', root]);
    assert.equal(other.code, 2, JSON.stringify(text.slice(-3)));
    assert.match(other.stderr, / does not match exports\/rag\/_manifest\.json /);
  }
  // a folder where the shard should be: refused as unreadable, not an internal error
  rmSync(join(root, shard));
  mkdirSync(join(root, shard));
  const folder = await inProcess(['index-rag', '--root', root]);
  assert.equal(folder.code, 2, folder.stderr);
  assert.match(folder.stderr, / cannot be read \(EISDIR\)/);
  assert.deepEqual(readdirSync(join(root, '.distill/scratch')), [], 'the scratch folder is removed');
});

test('replay --dry-run prints the retrieved documents and the exact prompt, calls no model and logs nothing', async () => {
  const root = await shared;
  const r = await inProcess(['replay', '--task', TASK, '--dry-run', '--root', root], {
    env: { DISTILL_LOCAL_BASE_URL: 'http://127.0.0.1:9/v1' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Retrieved 5 documents \(k = 5\):\n {2}1\. rag_[0-9a-f]{24}(-\d+)? {2}score \d+\.\d{4} {2}run {2}analytics-copilot:q-[0-9a-f]+\n {5}Task: Per month, what share of orders in shop_eu\.orders/,
  );
  assert.match(
    r.stdout,
    /\nRequest: POST http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions {2}model=qwen2\.5:7b-instruct temperature=0 seed=0 max_tokens=1024\n──── system ────\nYou answer tasks for a team, using its reference library/,
  );
  assert.match(
    r.stdout,
    /\n──── user ────\n<documents>\n<document id="rag_[0-9a-f]{24}" kind="run">\nTask: Per month/,
  );
  assert.ok(
    r.stdout.endsWith(`</documents>\n\nTask:\n${TASK}\n──── end ────\n\nDry run: no model was called.\n`),
  );
  assert.equal(existsSync(join(root, 'reports/replay/calls.jsonl')), false);

  const j = await inProcess(['replay', '--task', TASK, '--dry-run', '--json', '--k', '2', '--root', root]);
  const out = JSON.parse(j.stdout);
  assert.equal(out.retrieved.length, 2);
  assert.deepEqual(
    out.context_ids,
    out.retrieved.map((d: { id: string }) => d.id),
  );
  assert.deepEqual(Object.keys(out.request), ['model', 'messages', 'temperature', 'max_tokens', 'seed']);
  const same = await inProcess(['replay', '--task', TASK, '--dry-run', '--json', '--k', '2', '--root', root]);
  assert.equal(same.stdout, j.stdout, 'retrieval and prompt are deterministic');
});

test('replay answers through the local model, prints the answer with the ids it is grounded on, and logs the call', async () => {
  const root = await copyOf();
  const server = await startFakeServer((body) => {
    const user = String((body['messages'] as { content: string }[])[1]?.content ?? '');
    const first = /<document id="(rag_[0-9a-f]{24}(?:-\d+)?)"/.exec(user)?.[1];
    return {
      body: completion(
        first ? `Use AVG over a CASE on status [${first}].` : 'Use AVG over a CASE on status.',
      ),
    };
  });
  try {
    const env = { DISTILL_LOCAL_BASE_URL: server.baseUrl, DISTILL_LOCAL_MODEL: 'fake-model' };
    const r = await inProcess(['replay', '--task', TASK, '--root', root], { env });
    assert.equal(r.code, 0, r.stderr);
    const id = /\[(rag_[0-9a-f]{24}(?:-\d+)?)\]/.exec(r.stdout)?.[1] as string;
    assert.equal(r.stdout, `Use AVG over a CASE on status [${id}].\n\ngrounded on: ${id}\n`);
    assert.match(
      r.stderr,
      /^✔ replay: answered by local fake-model \(\d+\.\d s, 100 \+ 20 tokens\); 5 retrieved, 1 cited; logged to reports\/replay\/calls\.jsonl\n$/,
    );
    const base = await inProcess(['replay', '--task', TASK, '--no-retrieval', '--root', root], { env });
    assert.equal(base.code, 0, base.stderr);
    assert.equal(base.stdout, 'Use AVG over a CASE on status.\n\ngrounded on: (no retrieval)\n');
    const rows = read(root, 'reports/replay/calls.jsonl')
      .trim()
      .split('\n')
      .map((l) => ReplayCall.parse(JSON.parse(l)));
    assert.deepEqual(
      rows.map((x) => [x.arm, x.base_url, x.model, x.context_ids.length, x.validation?.ok, x.escalated]),
      [
        ['retrieval', server.baseUrl, 'fake-model', 5, true, false],
        ['no-retrieval', server.baseUrl, 'fake-model', 0, true, false],
      ],
    );
  } finally {
    await server.close();
  }
});

test('replay with no model reachable exits 3 and says which URL and how to start one; --allow-escalation needs an escalation model', async () => {
  const root = await copyOf();
  const closed = await closedPortUrl();
  const r = await inProcess(['replay', '--task', TASK, '--root', root], {
    env: { DISTILL_LOCAL_BASE_URL: closed },
  });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `✖ no model server reachable at ${closed} (ECONNREFUSED). Start one, e.g. \`ollama serve\` then \`ollama pull qwen2.5:7b-instruct\` (or a llama.cpp server, vLLM or LM Studio), or point DISTILL_LOCAL_BASE_URL / replay.local.base_url at a running OpenAI-compatible server.\n✖ replay: no answer from any model; logged to reports/replay/calls.jsonl\n`,
  );
  const e = await inProcess(['replay', '--task', TASK, '--allow-escalation', '--root', root], {
    env: { DISTILL_LOCAL_BASE_URL: closed, DISTILL_ESCALATION_BASE_URL: '', DISTILL_ESCALATION_MODEL: '' },
  });
  assert.equal(e.code, 2);
  assert.match(
    e.stderr,
    /^✖ --allow-escalation needs an escalation model: set replay\.escalation\.base_url and replay\.escalation\.model in distill\.config\.json, or DISTILL_ESCALATION_BASE_URL and DISTILL_ESCALATION_MODEL/,
  );
  const k = await inProcess(['replay', '--task', TASK, '--kind', 'yaml', '--root', root]);
  assert.deepEqual([k.code, k.stderr], [2, '✖ --kind must be one of text, json, got "yaml" [USAGE]\n']);
});

test('replay-eval with no model: retrieval metrics and examples, model arms "unavailable" with a note, exit 0; deterministic; --require-model fails', async () => {
  const root = await copyOf();
  const closed = await closedPortUrl();
  const env = { DISTILL_LOCAL_BASE_URL: closed };
  const r = await inProcess(['replay-eval', '--root', root], { env });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(read(root, 'reports/replay/eval.json'));
  assert.equal(r.stdout, read(root, 'reports/replay/eval.md'));
  assert.match(r.stdout, /\| retrieval \| unavailable \| \d+ \| — \| — \| — \| \d\.\d\d \| — \| — \|/);
  assert.match(r.stdout, /\| same task family \| \d+ \| \d\.\d\d \| \d\.\d\d \| \d\.\d\d \|/);
  assert.match(r.stdout, /## Example queries\n\n### 1\. `sft_/);
  assert.equal(report.model.status, 'unavailable');
  assert.match(
    report.model.note,
    /^model arms not run: no model server reachable at http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\)\. Start one, e\.g\. `ollama serve`/,
  );
  assert.deepEqual(
    report.arms.map((a: { arm: string; status: string }) => [a.arm, a.status]),
    [
      ['retrieval', 'unavailable'],
      ['no-retrieval', 'unavailable'],
    ],
  );
  assert.ok(report.tasks.evaluated > 0);
  assert.equal(report.examples.length, 3);
  assert.ok(report.retrieval.family.tasks > 0 && report.retrieval.family.hit_at_k > 0);
  assert.match(r.stderr, /⚠ model arms not run: no model server reachable/);
  assert.equal(existsSync(join(root, 'reports/replay/calls.jsonl')), false, 'no model call was made');

  const again = await inProcess(['replay-eval', '--root', root], { env });
  assert.equal(again.code, 0);
  assert.equal(
    read(root, 'reports/replay/eval.json').replace(/127\.0\.0\.1:\d+/g, 'HOST'),
    JSON.stringify(report, null, 2).replace(/127\.0\.0\.1:\d+/g, 'HOST') + '\n',
  );

  const strict = await inProcess(['replay-eval', '--require-model', '--root', root], { env });
  assert.equal(strict.code, 3);
  assert.match(
    strict.stderr,
    /✖ replay-eval: \d+ held-out tasks; .* \(--require-model: failing because no model ran\)\n$/,
  );
});

test('replay-eval never retrieves the held-out run itself, and no accepted answer of the corpus reads as a refusal', async () => {
  const root = await shared;
  const r = await inProcess(['replay-eval', '--json', '--root', root], {
    env: { DISTILL_LOCAL_BASE_URL: await closedPortUrl() },
  });
  const report = JSON.parse(r.stdout);
  const { index } = await loadRagIndex(root);
  const docTrace = new Map(index.all().map((d) => [d.id, d.trace_id]));
  const sft = readdirSync(join(root, 'exports/sft/instruction_response'))
    .flatMap((f) => read(root, `exports/sft/instruction_response/${f}`).split('\n'))
    .filter((l) => l !== '')
    .map((l) => SftSample.parse(JSON.parse(l)));
  const runOf = new Map(sft.map((s) => [s.id, s.run_id]));
  for (const t of report.per_task)
    for (const id of t.retrieved_ids)
      assert.notEqual(docTrace.get(id), runOf.get(t.id), `${t.id} retrieved its own run`);
  for (const s of sft) assert.equal(isRefusal(s.messages[s.messages.length - 1]?.content ?? ''), false, s.id);
});

test('replay-eval with a model: both arms run, with validity, agreement, latency and tokens; every call is logged', async () => {
  const root = await copyOf();
  const server = await startFakeServer((body) => {
    const user = String((body['messages'] as { content: string }[])[1]?.content ?? '');
    const first = /<document id="(rag_[0-9a-f]{24}(?:-\d+)?)"/.exec(user)?.[1];
    return {
      body: completion(first ? `See [${first}].` : 'No idea.', {
        promptTokens: first ? 900 : 100,
        completionTokens: 10,
      }),
    };
  });
  try {
    const r = await inProcess(['replay-eval', '--limit', '4', '--root', root], {
      env: {
        DISTILL_LOCAL_BASE_URL: server.baseUrl,
        DISTILL_LOCAL_MODEL: 'fake-model',
        DISTILL_REPLAY_LOG_MAX_BYTES: '2000',
        DISTILL_REPLAY_LOG_KEEP: '1',
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(read(root, 'reports/replay/eval.json'));
    assert.equal(report.model.status, 'available');
    const [withR, without] = report.arms;
    assert.deepEqual(
      [
        withR.arm,
        withR.status,
        withR.metrics.tasks,
        withR.metrics.valid,
        withR.metrics.tokens.prompt,
        withR.metrics.tokens.completion,
      ],
      ['retrieval', 'ran', 4, 4, 3600, 40],
    );
    assert.deepEqual(
      [
        without.arm,
        without.status,
        without.metrics.tasks,
        without.metrics.valid,
        without.metrics.tokens.prompt,
      ],
      ['no-retrieval', 'ran', 4, 4, 400],
    );
    assert.equal(withR.metrics.agreement_rate, 0, '"See [id]." shares no token with the recorded answers');
    assert.match(
      r.stdout,
      /\| retrieval \| ran \| 4 \| 1\.00 \| 0\.00 \| 0\.00 \| \d\.\d\d \| \d+ \/ \d+ \/ \d+ \| 3600 \/ 40 \|/,
    );
    assert.equal(server.requests.filter((q) => q.path === '/v1/chat/completions').length, 8);
    // 8 rows of ~1.5 KB with max_bytes 2000 and keep 1: rotation left exactly two files
    const rows = ['reports/replay/calls.1.jsonl', 'reports/replay/calls.jsonl'].flatMap((f) =>
      read(root, f).trim().split('\n'),
    );
    assert.equal(existsSync(join(root, 'reports/replay/calls.2.jsonl')), false);
    for (const l of rows) assert.equal(ReplayCall.parse(JSON.parse(l)).command, 'replay-eval');
  } finally {
    await server.close();
  }
});

test('loadRagIndex: an empty index and a stale one are reported', async () => {
  const root = tempProject('distill-replay-');
  const writeIndex = (rows: RagSample[]): void => {
    for (const [rel, text] of buildIndexFiles(new Map([['2026-10-01', rows]]))) {
      mkdirSync(join(root, 'data/rag-index', rel, '..'), { recursive: true });
      writeFileSync(join(root, 'data/rag-index', rel), text);
    }
  };
  writeIndex([]);
  await assert.rejects(loadRagIndex(root), {
    message:
      'the retrieval index data/rag-index/ holds 0 documents: exports/rag/documents/ was empty when it was built (see exports/rag/_quarantine/ for why). Add sources and rebuild with `npm run index-rag` (or `distill export-rag && distill index-rag`), or run without retrieval (--no-retrieval)',
  });
  writeFileSync(join(root, 'data/rag-index/stats.json'), '{"format":"distill-rag-index"');
  await assert.rejects(loadRagIndex(root), (e: Error) =>
    /^data\/rag-index\/stats\.json is not valid JSON \(.+\); rebuild it with `npm run index-rag`/.test(
      e.message,
    ),
  );
  writeIndex([runDoc('a', 'q', 'a', 'k:1')]);
  writeFileSync(join(root, 'data/rag-index/segments/2026-10-01.jsonl'), '{}\n');
  await assert.rejects(loadRagIndex(root), (e: Error) =>
    /^data\/rag-index\/segments\/2026-10-01\.jsonl is not a segment \(1 lines, expected 3\); rebuild it with `npm run index-rag`/.test(
      e.message,
    ),
  );
  rmSync(join(root, 'data/rag-index/segments/2026-10-01.jsonl'));
  await assert.rejects(loadRagIndex(root), {
    message:
      'data/rag-index/segments/2026-10-01.jsonl not found although data/rag-index/stats.json lists it; rebuild it with `npm run index-rag` (or `distill export-rag && distill index-rag`)',
  });

  const built = await shared;
  const entry = (sha: string) => ({
    path: 'exports/rag/documents/2026-10-01.jsonl',
    sha256: sha,
    bytes: 1,
    rows: 1,
  });
  const m = (phase: string, key: 'inputs' | 'files', sha: string) =>
    JSON.stringify({
      schema_version: 1,
      phase,
      parameters: {},
      schema_versions: {},
      inputs: key === 'inputs' ? [entry(sha)] : [],
      files: key === 'files' ? [entry(sha)] : [],
      counts: {},
    });
  writeIndex([runDoc('a', 'q', 'a', 'k:1')]);
  writeFileSync(join(root, 'data/rag-index/_manifest.json'), m('index-rag', 'inputs', 'a'.repeat(64)));
  mkdirSync(join(root, 'exports/rag'), { recursive: true });
  writeFileSync(join(root, 'exports/rag/_manifest.json'), m('export-rag', 'files', 'b'.repeat(64)));
  assert.match(
    (await loadRagIndex(root)).warning ?? '',
    /^the retrieval index is older than exports\/rag\/documents\/ \(built from shards of digest [0-9a-f]{12}…, now [0-9a-f]{12}…\); rebuild it with `npm run index-rag` \(or `distill export-rag && distill index-rag`\)$/,
  );
  assert.equal((await loadRagIndex(built)).warning, null);
});
