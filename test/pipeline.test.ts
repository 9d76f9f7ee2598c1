import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtProject } from './helpers/built.ts';
import { inProcess, runCli, tempProject, treeHashes } from './helpers/project.ts';

/**
 * Builds evidence and scored runs in a project: in-process, or in a child process when the test
 * needs its own environment (TZ and locale are read once at process start).
 */
async function build(
  dir: string,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; child?: boolean } = {},
): Promise<void> {
  for (const phase of ['build-evidence', 'score']) {
    const args = [phase, '--root', dir];
    const o = { env: opts.env ?? {}, cwd: opts.cwd ?? dir };
    const r = opts.child ? await runCli(args, o) : await inProcess(args, o);
    assert.equal(r.code, 0, `${phase} failed: ${r.stderr}`);
  }
}

// the bundled corpus with evidence built and scored (a copy per test of a template built once per suite)
const scored = (): Promise<string> => builtProject('scored');

test('every source line is accounted for: per file and per stream, units = evidence + quarantined', async () => {
  const dir = await scored();
  const health = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8'));
  assert.ok(health.totals.units >= 1000, `bundled corpus has ${health.totals.units} rows, expected 1000+`);
  assert.ok(Object.keys(health.streams).length >= 10, 'at least 10 streams');
  for (const f of health.files) assert.equal(f.units, f.evidence_units + f.quarantined_units, f.file);
  // count source lines independently of the reader, for the JSONL sources
  for (const f of health.files.filter((x: { file: string }) => x.file.endsWith('.jsonl'))) {
    const text = readFileSync(join(dir, f.file), 'utf8');
    const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    assert.equal(f.units, lines, `${f.file}: read ${f.units} of ${lines} lines`);
  }
  const q = readFileSync(join(dir, 'data/evidence/_manifest.json'), 'utf8');
  const m = JSON.parse(q);
  const qRows = m.files
    .filter((x: { path: string }) => x.path.includes('/_quarantine/'))
    .reduce((s: number, x: { rows: number }) => s + x.rows, 0);
  assert.equal(qRows, health.totals.quarantined_units + health.totals.files_refused);
  assert.ok(health.totals.quarantined_units > 0, 'the bundled corpus has deliberately bad rows');
});

test('deterministic: another TZ, locale, cwd and source order give byte-identical evidence and scored runs', async () => {
  const a = await scored();
  const b = tempProject();
  const cfgPath = join(b, 'distill.config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.sources.reverse();
  for (const s of cfg.sources) s.files.reverse();
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  const otherCwd = mkdtempSync(join(tmpdir(), 'distill-cwd-'));
  await build(b, {
    env: { TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' },
    cwd: otherCwd,
    child: true,
  });
  const ha = treeHashes(join(a, 'data'));
  const hb = treeHashes(join(b, 'data'));
  const built = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('_kb/')));
  assert.ok(Object.keys(built(ha)).length > 10);
  assert.deepEqual(built(hb), built(ha));
});

test('a second build of the same inputs is byte-identical, manifests included', async () => {
  const dir = await scored();
  const first = treeHashes(join(dir, 'data'));
  await build(dir);
  assert.deepEqual(treeHashes(join(dir, 'data')), first);
});

test('score reads only what build-evidence published and categorises every run', async () => {
  const dir = tempProject();
  const noEvidence = await inProcess(['score', '--root', dir]);
  assert.equal(noEvidence.code, 2);
  assert.match(
    noEvidence.stderr,
    /data\/evidence\/_manifest\.json not found: build it first with `npm run build-evidence`/,
  );
  const scoredDir = await scored();
  const s = JSON.parse(readFileSync(join(scoredDir, 'data/scored-runs/_summary.json'), 'utf8'));
  for (const c of ['accepted', 'partially_accepted', 'rejected', 'needs_human_review'])
    assert.ok(s.by_category[c] > 0, `no ${c} runs in the bundled corpus`);
  assert.equal(
    Object.values(s.by_category as Record<string, number>).reduce((x, y) => x + y, 0),
    s.runs,
  );
});
