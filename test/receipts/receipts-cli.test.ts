import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../tasks/cli/commands.ts';
import { activePhases } from '../../tasks/phases/registry.ts';
import { RECENT_DAYS } from '../helpers/built.ts';
import { inProcess, keepLastDays, tempProject } from '../helpers/project.ts';

const PHASES = activePhases((name) => name in COMMANDS).map((p) => p.phase);
const FIX = 'rebuild with `npm run run-all` (or `distill run-all`)';

let built: Promise<string> | null = null;

/**
 * A project with two run-alls (built once, copied per test) on the bundled corpus's last
 * RECENT_DAYS days (every stream; what is tested is the receipts, not the corpus): run-1 ran every
 * phase; run-2 is what `npm run run-all` records when wireit finds every phase fresh (no receipt
 * in its folder).
 */
async function project(): Promise<string> {
  built ??= (async () => {
    const dir = tempProject();
    keepLastDays(dir, RECENT_DAYS);
    const r1 = await inProcess(['run-all', '--root', dir], { env: { DISTILL_RUN_ID: 'run-1' } });
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await inProcess(['run-all', '--collect', '--root', dir], { env: { DISTILL_RUN_ID: 'run-2' } });
    assert.equal(r2.code, 0, r2.stderr);
    return dir;
  })();
  const copy = mkdtempSync(join(tmpdir(), 'distill-receipts-'));
  cpSync(await built, copy, { recursive: true });
  return copy;
}

const edit = (dir: string, rel: string, fn: (r: Record<string, any>) => void): void => {
  const path = join(dir, rel);
  const r = JSON.parse(readFileSync(path, 'utf8'));
  fn(r);
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
};

test('distill receipts shows the latest run: phases, check, funnel and drift', async () => {
  const dir = await project();
  const r = await inProcess(['receipts', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(
    lines[0] as string,
    /^run run-2: ok · code \S+ · started \d{4}-\d\d-\d\dT[\d:.]+Z · took \d+\.\d s$/,
  );
  assert.equal(
    lines[1],
    'phases (quarantined: bad rows; excluded: left out by policy, e.g. a category an export does not take)',
  );
  const width = Math.max(...PHASES.map((p) => p.length));
  for (const [i, p] of PHASES.entries())
    assert.match(
      lines[2 + i] as string,
      new RegExp(
        `^  ${p.padEnd(width)}  fresh   [\\d,]+ [a-zA-Z ]+ → [\\d,]+ kept, [\\d,]+ quarantined(, [\\d,]+ excluded)? +reports/distillation/run-1/${p}\\.receipt\\.json$`,
      ),
    );
  assert.equal(
    lines[2 + PHASES.length],
    `check: ok (${PHASES.length} receipts reconcile: rows in = kept + quarantined + excluded, inputs = upstream outputs, outputs = files on disk)`,
  );
  assert.equal(lines[3 + PHASES.length], 'funnel');
  assert.ok(r.stdout.endsWith('drift: ok vs run run-1 (no metric changed)\n'), r.stdout);
});

test('distill receipts --run-id shows an older run without comparing it with the disk; --check and --json', async () => {
  const dir = await project();
  const r = await inProcess(['receipts', '--run-id', 'run-1', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^run run-1: ok · /);
  assert.match(
    r.stdout,
    new RegExp(
      `\\ncheck: ok \\(${PHASES.length} receipts reconcile: rows in = kept \\+ quarantined \\+ excluded, inputs = upstream outputs; an older run, not compared with the files on disk\\)\\n`,
    ),
  );
  assert.ok(r.stdout.endsWith('drift: ok (first run, nothing to compare)\n'), r.stdout);
  const check = await inProcess(['receipts', '--check', '--root', dir]);
  assert.equal(check.code, 0);
  assert.equal(
    check.stdout,
    `run run-2\ncheck: ok (${PHASES.length} receipts reconcile: rows in = kept + quarantined + excluded, inputs = upstream outputs, outputs = files on disk)\n`,
  );
  const json = await inProcess(['receipts', '--json', '--root', dir]);
  const out = JSON.parse(json.stdout);
  assert.equal(out.summary.run_id, 'run-2');
  assert.equal(out.drift.previous_run_id, 'run-1');
  assert.deepEqual(out.check, { ok: true, compared_with_disk: true, problems: [] });
});

test('distill receipts: clear errors for no run-all yet and for an unknown or single-phase run id', async () => {
  const empty = tempProject();
  const none = await inProcess(['receipts', '--root', empty]);
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    '✖ no run-all summary under reports/distillation/; run `npm run run-all` (or `distill run-all`) first [NOTHING_BUILT]\n',
  );
  const dir = await project();
  const unknown = await inProcess(['receipts', '--run-id', 'run-9', '--root', dir]);
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr,
    '✖ no run run-9 under reports/distillation/; the most recent run-all runs are: run-2, run-1 [NO_SUCH_RUN]\n',
  );
  const single = await inProcess(['score', '--root', dir], { env: { DISTILL_RUN_ID: 'run-3' } });
  assert.equal(single.code, 0, single.stderr);
  const phase = await inProcess(['receipts', '--run-id', 'run-3', '--root', dir]);
  assert.equal(
    phase.stderr,
    '✖ run run-3 has receipts but no summary.json: it was a single phase, not a run-all (see reports/distillation/run-3/). Run-all runs: run-2, run-1 [NO_SUCH_RUN]\n',
  );
});

test('receipts --check exits 1 on an edited receipt (rows in ≠ kept + quarantined + excluded)', async () => {
  const dir = await project();
  edit(dir, 'reports/distillation/run-1/score.receipt.json', (r) => (r['counts'].out += 1));
  const r = await inProcess(['receipts', '--check', '--root', dir]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /^run run-2\ncheck: FAILED, 1 problem\n {2}✖ score: ([\d,]+) evidence records in ≠ ([\d,]+) out \+ ([\d,]+) quarantined \+ 0 excluded = ([\d,]+) \(reports\/distillation\/run-1\/score\.receipt\.json\); the receipt was edited or the phase miscounted: rebuild with/,
  );
});

test("receipts --check exits 1 when a phase's input hash is not its upstream's output hash", async () => {
  const dir = await project();
  let path = '';
  edit(dir, 'reports/distillation/run-1/export-sft.receipt.json', (r) => {
    path = r['inputs'][0].path;
    r['inputs'][0].sha256 = '0'.repeat(64);
  });
  const r = await inProcess(['receipts', '--check', '--root', dir]);
  assert.equal(r.code, 1);
  const upstream = PHASES.includes('screen') ? 'screen' : 'score';
  assert.ok(
    r.stdout.includes(
      `✖ export-sft: input ${path} has sha256 000000000000… (reports/distillation/run-1/export-sft.receipt.json), but ${upstream} wrote `,
    ),
    r.stdout,
  );
  assert.ok(r.stdout.includes(`; export-sft did not read what ${upstream} produced: ${FIX}`), r.stdout);
});

test('run-all after wireit: phases with a receipt in this run ran, the others are fresh and point at the receipt matching their outputs', async () => {
  const dir = await project();
  // what wireit does when only score is stale: runs score (same run id), skips the rest, then collects
  const score = await inProcess(['score', '--root', dir], { env: { DISTILL_RUN_ID: 'run-3' } });
  assert.equal(score.code, 0, score.stderr);
  const r = await inProcess(['run-all', '--collect', '--root', dir], { env: { DISTILL_RUN_ID: 'run-3' } });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(join(dir, 'reports/distillation/run-3/summary.json'), 'utf8'));
  assert.deepEqual(
    s.phases.map(
      (p: { phase: string; status: string; receipt: string }) => `${p.phase} ${p.status} ${p.receipt}`,
    ),
    PHASES.map((p) =>
      p === 'score'
        ? 'score ran reports/distillation/run-3/score.receipt.json'
        : `${p} fresh reports/distillation/run-1/${p}.receipt.json`,
    ),
  );
  assert.equal(s.ok, true);
  assert.match(r.stderr, /\n {2}build-evidence +fresh +[\d,]+ source rows → [\d,]+ kept, /);
  assert.ok(r.stderr.endsWith('drift: ok vs run run-2 (no metric changed)\n'), r.stderr);
});

test('run-all after wireit: a fresh phase that no receipt describes is a failure, not silently accepted', async () => {
  const dir = await project();
  for (const run of ['run-1', 'latest'])
    rmSync(join(dir, 'reports/distillation', run, 'export-rag.receipt.json'));
  const r = await inProcess(['run-all', '--collect', '--root', dir], { env: { DISTILL_RUN_ID: 'run-3' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^run page: \S+ \(.*\)\nrun run-3: FAILED · /);
  assert.ok(
    r.stderr.includes(
      '  ✖ export-rag: skipped as fresh, but no receipt under reports/distillation/ lists the files in exports/rag/ (receipts deleted, or outputs edited); rebuild it with `distill export-rag`\n',
    ),
    r.stderr,
  );
  const s = JSON.parse(readFileSync(join(dir, 'reports/distillation/run-3/summary.json'), 'utf8'));
  assert.equal(s.phases.find((p: { phase: string }) => p.phase === 'export-rag').status, 'failed');
});
