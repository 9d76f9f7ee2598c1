import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { DocumentBody, JudgmentBody, RunBody, SignalBody } from '../schemas/evidence-record.ts';
import { ADAPTER_DROP_REASONS } from '../tasks/adapters/drop-reasons.ts';
import { getAdapter } from '../tasks/adapters/registry.ts';
import { writeCorpus } from '../tasks/dev/corpus.ts';
import { BAD_ROW_KINDS } from '../tasks/dev/corpus/bad-rows.ts';
import { parseRow } from '../tasks/lib/json-check.ts';
import { parseTimestamp } from '../tasks/phases/build-evidence/time.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const SMALL = { records: 300, seed: 11, startDate: '2026-10-01', days: 3 };

/** Every file under dir with its bytes, sorted by path. */
async function snapshot(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const stream of (await readdir(dir)).sort()) {
    for (const f of (await readdir(join(dir, stream))).sort())
      out.push([`${stream}/${f}`, await readFile(join(dir, stream, f), 'utf8')]);
  }
  return out;
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'distill-corpus-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('corpus: the same seed gives byte-identical files; another seed gives different ones', async () => {
  const [a, b, c] = await withTemp(async (dir) => {
    await writeCorpus(join(dir, 'a'), SMALL);
    await writeCorpus(join(dir, 'b'), SMALL);
    await writeCorpus(join(dir, 'c'), { ...SMALL, seed: 12 });
    return [await snapshot(join(dir, 'a')), await snapshot(join(dir, 'b')), await snapshot(join(dir, 'c'))];
  });
  assert.ok(a.length >= 12, `expected files for every stream, got ${a.length}`);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map(([, t]) => t),
    c.map(([, t]) => t),
  );
});

test('corpus: one file per stream and day, named YYYY-MM-DD.jsonl, plus the tau-bench array', async () => {
  const files = await withTemp(async (dir) => {
    await writeCorpus(dir, SMALL);
    return (await snapshot(dir)).map(([p]) => p);
  });
  assert.ok(files.includes('tau_bench/synthetic-airline.json'));
  for (const f of files.filter((p) => !p.startsWith('tau_bench/')))
    assert.match(f, /^[a-z_]+\/2026-10-0[123]\.jsonl$/);
  assert.ok(
    files.includes('gateway_calls/2026-10-01.jsonl') && files.includes('gateway_calls/2026-10-03.jsonl'),
  );
});

test("corpus: `only` writes just the streams asked for, each file byte-identical to the full corpus's", async () => {
  const [full, one, summary] = await withTemp(async (dir) => {
    await writeCorpus(join(dir, 'full'), SMALL);
    const s = await writeCorpus(join(dir, 'one'), SMALL, false, ['gateway_calls']);
    return [await snapshot(join(dir, 'full')), await snapshot(join(dir, 'one')), s] as const;
  });
  const gateway = full.filter(([p]) => p.startsWith('gateway_calls/'));
  assert.ok(gateway.length >= 3);
  assert.deepEqual(one, gateway);
  assert.equal(summary.files, gateway.length);
  assert.equal(
    summary.bytes,
    gateway.reduce((n, [, t]) => n + Buffer.byteLength(t), 0),
  );
  assert.ok(summary.rows.gateway_calls > 0);
  assert.deepEqual(
    Object.entries(summary.rows).filter(([k, v]) => k !== 'gateway_calls' && v !== 0),
    [],
  );
});

interface SharedCorpus {
  dir: string;
  rows: number;
  text: (stream: string) => Promise<string>;
}

/** A 1,500-row corpus shared by the content tests (generated once, removed after the file). */
let shared: Promise<SharedCorpus> | null = null;
let sharedDir: string | null = null;
after(() => (sharedDir ? rm(sharedDir, { recursive: true, force: true }) : undefined));
function sharedCorpus(): Promise<SharedCorpus> {
  shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'distill-corpus-'));
    sharedDir = dir;
    const summary = await writeCorpus(dir, { records: 1500, seed: 5, startDate: '2026-10-01', days: 5 });
    const text = async (stream: string): Promise<string> => {
      const files = (await readdir(join(dir, stream))).sort();
      return (await Promise.all(files.map((f) => readFile(join(dir, stream, f), 'utf8')))).join('');
    };
    return { dir, rows: Object.values(summary.rows).reduce((a, b) => a + b, 0), text };
  })();
  return shared;
}

test('corpus: every row converts through its adapter except the deliberately bad ones, each with its expected reason', async () => {
  const config = JSON.parse(await readFile(resolve(repoRoot, 'distill.config.json'), 'utf8')) as {
    as_of: string;
    sources: Array<{ stream: string; adapter: string }>;
  };
  const asOfMs = Date.parse(config.as_of);
  const { dir, rows } = await sharedCorpus();
  const tally = await (async () => {
    const reasons = new Map<string, number>();
    const kinds = new Map<string, number>();
    const runIds = new Set<string>();
    let units = 0;
    const count = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
    for (const src of config.sources) {
      const adapter = getAdapter(src.adapter)!;
      for (const f of (await readdir(join(dir, src.stream))).sort()) {
        const text = await readFile(join(dir, src.stream, f), 'utf8');
        const lines =
          adapter.shape === 'json-array'
            ? (JSON.parse(text) as unknown[]).map((e) => JSON.stringify(e))
            : text.split('\n').slice(0, -1);
        lines.forEach((line, index) => {
          units++;
          const parsed = parseRow(line, { maxDepth: 64 });
          if (!parsed.ok) return count(reasons, parsed.drop.reason);
          const out = adapter.toEvidence(parsed.value, {
            stream: src.stream,
            sourceFile: `data/_kb/${src.stream}/${f}`,
            index,
          });
          if (out.type === 'drop') return count(reasons, out.reason);
          for (const d of out.records) {
            if (d.recorded_at !== null) {
              const t = parseTimestamp(d.recorded_at);
              if (!t.ok) return count(reasons, 'INVALID_TIMESTAMP');
              if (t.ms > asOfMs) return count(reasons, 'FUTURE_TIMESTAMP');
            }
            count(kinds, d.kind);
            if (d.kind === 'run') {
              RunBody.parse(d.run);
              assert.ok(!runIds.has(d.trace_id!), `duplicate run trace_id ${d.trace_id}`);
              runIds.add(d.trace_id!);
            } else if (d.kind === 'signal') SignalBody.parse(d.signal);
            else if (d.kind === 'document') DocumentBody.parse(d.document);
            else JudgmentBody.parse(d.judgment);
          }
        });
      }
    }
    return { rows, units, reasons, kinds };
  })();
  assert.equal(tally.units, tally.rows);
  const expected = new Set<string>([...BAD_ROW_KINDS.map((b) => b.expect), 'PREFERENCE_TIE']);
  for (const reason of tally.reasons.keys())
    assert.ok(expected.has(reason), `unexpected drop reason ${reason}`);
  for (const b of BAD_ROW_KINDS)
    assert.ok((tally.reasons.get(b.expect) ?? 0) >= 1, `bad row ${b.kind} should drop as ${b.expect}`);
  const adapterReasons = new Set<string>(ADAPTER_DROP_REASONS);
  const shellReasons = [
    'JSON_PARSE',
    'DUPLICATE_KEY',
    'NOT_AN_OBJECT',
    'INVALID_TIMESTAMP',
    'FUTURE_TIMESTAMP',
  ];
  for (const r of tally.reasons.keys()) assert.ok(adapterReasons.has(r) || shellReasons.includes(r), r);
  const dropped = [...tally.reasons.values()].reduce((a, b) => a + b, 0);
  assert.ok(dropped / tally.rows < 0.03, `${dropped} of ${tally.rows} rows dropped`);
  assert.deepEqual([...tally.kinds.keys()].sort(), ['document', 'judgment', 'run', 'signal']);
});

test('corpus: gateway calls include escalations, API errors, truncations, empty answers and tool calls', async () => {
  const { text } = await sharedCorpus();
  const rows = (await text('gateway_calls'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return []; // the deliberately torn row
      }
    });
  const byTrace = new Map(rows.map((r) => [r.trace_id as string, r]));
  const escalated = rows.filter((r) => r.metadata?.escalated_from);
  assert.ok(escalated.length >= 3, `${escalated.length} escalations`);
  for (const r of escalated) {
    const local = byTrace.get(r.metadata.escalated_from);
    assert.equal(local?.metadata.tier, 'local', 'escalated from a local attempt');
    assert.equal(r.metadata.tier, 'cloud');
    assert.equal(r.task_key, local?.task_key);
    assert.deepEqual(
      r.request.messages[1],
      local?.request.messages[1],
      'same prompt, so the same derived task key',
    );
  }
  const finish = (r: Record<string, any>): string | undefined => r.response?.choices[0]?.finish_reason;
  assert.ok(
    rows.some((r) => r.response === null && typeof r.error?.type === 'string'),
    'API errors',
  );
  assert.ok(
    rows.some((r) => finish(r) === 'length'),
    'truncated answers',
  );
  assert.ok(
    rows.some((r) => r.response?.choices[0]?.message.content === ''),
    'empty answers',
  );
  assert.ok(
    rows.some((r) => finish(r) === 'tool_calls'),
    'tool-call responses',
  );
  assert.ok(
    rows.some((r) => r.request.messages.some((m: any) => m.role === 'tool')),
    'tool round trips',
  );
  assert.ok(
    rows.some((r) => r.metadata?.tier === 'local' && r.request.model === 'qwen2.5-7b-instruct'),
    'local qwen attempts',
  );
  const attempts = new Map<string, number>();
  for (const r of rows) if (r.task_key) attempts.set(r.task_key, (attempts.get(r.task_key) ?? 0) + 1);
  assert.ok(
    [...attempts.values()].filter((n) => n >= 2).length >= 10,
    'repeated tasks with several attempts',
  );
});

test('corpus: outcome streams cover every scorer category and the canaries are present', async () => {
  const { text } = await sharedCorpus();
  const reviews = await text('human_reviews');
  for (const d of ['approve', 'reject', 'edit', 'unsure'])
    assert.ok(reviews.includes(`"decision":"${d}"`), d);
  assert.match(reviews, /"decision":"edit","corrected_answer":"[^"]+"/);
  const audits = await text('auditor_verdicts');
  for (const v of ['pass', 'fail', 'uncertain']) assert.ok(audits.includes(`"verdict":"${v}"`), v);
  const rewards = await text('rewards');
  assert.ok(rewards.includes('"reward":1,') && rewards.includes('"reward":0,'));
  const tests = await text('test_results');
  assert.match(tests, /"failed":0,/);
  assert.match(tests, /"failed":[1-9]/);
  const runs = (await text('gateway_calls')) + (await text('agent_trajectories'));
  // the fake secrets and PII of tasks/dev/corpus/canaries.ts, inside otherwise valid runs
  assert.match(runs, /sk-proj-[A-Za-z0-9]{74}T3BlbkFJ[A-Za-z0-9]{74}/);
  assert.match(runs, /AKIA[A-Z2-7]{16}/);
  assert.match(runs, /ghp_[A-Za-z0-9]{36}/);
  assert.match(runs, /[a-z]+\.[a-z]+[0-9]+@example\.com/);
  assert.match(runs, /"review_status":"approved"|"is_eval":false/);
});

test('corpus: refuses to overwrite generated streams without --force, replaces them with it', async () => {
  await withTemp(async (dir) => {
    await writeCorpus(dir, SMALL);
    await assert.rejects(writeCorpus(dir, SMALL), (e: Error) => {
      assert.match(
        e.message,
        /already has \d+ file\(s\); pass --force to replace the generated stream folders/,
      );
      return true;
    });
    const before = await snapshot(dir);
    await writeCorpus(dir, SMALL, true);
    assert.deepEqual(await snapshot(dir), before);
  });
});

test('corpus CLI: a bad argument exits 2 with the usage', async () => {
  const run = promisify(execFile);
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', 'tasks/dev/corpus.ts', '--records', 'ten'], { cwd: repoRoot }),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.equal(
        e.stderr,
        '✖ corpus: --records expects an integer >= 1, got "ten"\nusage: npm run corpus -- [--records N] [--out DIR] [--seed S] [--start-date YYYY-MM-DD] [--days D] [--force] [--json]\n',
      );
      return true;
    },
  );
});
