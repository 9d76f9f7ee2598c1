import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, INVARIANTS } from '../../tasks/gates/acceptance/invariants.ts';
import type { Snapshot } from '../../tasks/gates/acceptance/snapshot.ts';
import { builtOnce, copyOf, onlyFails, reloadedAfter } from './fixture.ts';

/**
 * One negative test per invariant: the gate's fixture is built once, then each test breaks one
 * thing — in a copy of the snapshot, or in a copy of the built folder on disk — and shows that
 * exactly that invariant fails and the other 21 hold.
 */

const snapshot = async (): Promise<Snapshot> => copyOf((await builtOnce()).snapshot);

const row = <T>(rows: T[], pred: (r: T) => boolean, what: string): T => {
  const r = rows.find(pred);
  assert.ok(r, `the fixture has ${what}`);
  return r;
};

const q = (
  s: Snapshot,
  stage: string,
  pred: (r: Record<string, unknown>) => boolean,
  what: string,
): Record<string, unknown> => row(s.quarantine[stage] ?? [], pred, what);

/** The first day shard `<folder>/<shard>.jsonl` of the snapshot whose text holds `needle`. */
function shardWith(s: { files: Record<string, string> }, folder: string, needle: string): string {
  const f = Object.keys(s.files)
    .filter((k) => k.startsWith(`${folder}/`) && !k.slice(folder.length + 1).includes('/'))
    .sort()
    .find((k) => (s.files[k] as string).includes(needle));
  assert.ok(f, `a shard of ${folder} holds ${needle}`);
  return f;
}

test('the gate fixture passes all 22 invariants, each with a detail', async () => {
  const results = evaluate((await builtOnce()).snapshot);
  assert.equal(results.length, 22);
  assert.deepEqual(
    results.map((r) => r.id),
    INVARIANTS.map((i) => i.id),
  );
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.detail}`),
    [],
  );
  for (const r of results) assert.ok(r.detail.length > 20, `${r.id} says what it checked`);
  assert.equal(new Set(INVARIANTS.map((i) => i.name)).size, 22);
});

test('A01 fails when a source line was never accounted for', async () => {
  const s = await snapshot();
  const file = 'data/_kb/tool_outcomes/2026-05-14.jsonl';
  s.sources[file] = new Uint8Array([
    ...(s.sources[file] as Uint8Array),
    ...Buffer.from(
      '{"trace_id":"acc-late","timestamp":"2026-05-14T11:00:00Z","tool":"kiln-ctl","exit_code":0}\n',
    ),
  ]);
  const detail = onlyFails(s, 'A01');
  assert.match(
    detail,
    /tool_outcomes\/2026-05-14\.jsonl: 9 lines on disk, but build-evidence counted 8 units/,
  );
  assert.match(
    detail,
    /line 9 of 9 neither became evidence nor were quarantined \(a row was lost silently\)/,
  );
});

test('A01 fails when a quarantine row names another line than the one it dropped', async () => {
  const s = await snapshot();
  const file = 'data/_kb/tool_outcomes/2026-05-14.jsonl';
  const a = q(
    s,
    'build-evidence',
    (r) => r['source_file'] === file && r['reason'] === 'JSON_PARSE',
    'the JSON_PARSE row',
  );
  const b = q(
    s,
    'build-evidence',
    (r) => r['source_file'] === file && r['reason'] === 'SCHEMA_TYPE',
    'the SCHEMA_TYPE row',
  );
  [a['line_offset'], b['line_offset']] = [b['line_offset'], a['line_offset']];
  assert.equal(
    onlyFails(s, 'A01'),
    `${file} line 5: quarantined JSON_PARSE, but its line_sha256 is not the hash of that line; ${file} line 4: quarantined SCHEMA_TYPE, but its line_sha256 is not the hash of that line`,
  );
});

test('A02 fails when a bundled stream is missing from the fixture', async () => {
  const s = await snapshot();
  s.config.sources = s.config.sources.filter((x) => x.stream !== 'rewards');
  assert.equal(onlyFails(s, 'A02'), 'bundled stream rewards (reward) is not in the fixture config');
});

test('A03 fails when a run lands in another category (and its rule decides nothing)', async () => {
  const s = await snapshot();
  const run = row(s.scored, (r) => r.run_id === 'acc-g21', 'run acc-g21');
  run.category = 'accepted';
  run.decided_by = 'R16-auditor-pass';
  const detail = onlyFails(s, 'A03');
  assert.match(detail, /category accepted: 25, expected 24/);
  assert.match(
    detail,
    /rule R17-auditor-uncertain decided no run \(every rule of tasks\/phases\/score\/rules\.ts must be exercised\)/,
  );
});

test('A04 fails when a row is quarantined with another (known) reason', async () => {
  const s = await snapshot();
  q(s, 'build-evidence', (r) => r['reason'] === 'JSON_PARSE', 'a JSON_PARSE row')['reason'] =
    'JSON_TRAILING_DATA';
  assert.equal(
    onlyFails(s, 'A04'),
    'build-evidence: JSON_PARSE: 0, expected 1; build-evidence: JSON_TRAILING_DATA: 2, expected 1',
  );
});

test('A05 fails when an export loses a row', async () => {
  const s = await snapshot();
  const chunk = row(s.exports.rag, (r) => r.metadata['chunk_index'] === 1, 'a chunked RAG document');
  s.exports.rag = s.exports.rag.filter((r) => r !== chunk);
  assert.equal(onlyFails(s, 'A05'), 'export rag: 26, expected 27');
});

test('A06 fails when a quarantine row names the wrong unit, so a run is lost', async () => {
  const s = await snapshot();
  q(s, 'export-sft', (r) => r['record_id'] === 'acc-g02', 'acc-g02 in the SFT quarantine')['record_id'] =
    'acc-g02-typo';
  assert.equal(
    onlyFails(s, 'A06'),
    'export-sft: acc-g02 was neither used nor quarantined (lost silently); export-sft: a quarantine row names acc-g02-typo, which is not one of its input units',
  );
});

test('A07 fails when an SFT row carries a forbidden category', async () => {
  const s = await snapshot();
  const r = s.exports.sft[0] as { id: string; quality_score: string; run_id: string };
  r.quality_score = 'needs_human_review';
  assert.equal(
    onlyFails(s, 'A07'),
    `exports/sft: ${r.id} has quality_score needs_human_review; only accepted may be exported there; exports/sft: ${r.id} says needs_human_review, but run ${r.run_id} is accepted`,
  );
});

test("A08 fails on a pair whose sides are identical, or whose rejected side is not its own run's continuation", async () => {
  const s = await snapshot();
  const p = row(s.exports.pairs, (x) => x.pair_type === 'outcome', 'an outcome pair');
  p.rejected = p.chosen.map((m) => (m.role === 'assistant' ? { ...m, content: `${m.content ?? ''}  ` } : m));
  assert.equal(
    onlyFails(s, 'A08'),
    `${p.id}: chosen and rejected are identical; ${p.id}: prompt + rejected is not the opening of run ${p.rejected_id}`,
  );
});

test('A08 fails on a KTO row of a run that formed a pair when it arrived (the later side of an outcome pair), not of the earlier side', async () => {
  const s = await snapshot();
  const runs = new Map(s.screened.runs.map((r) => [r.run_id, r]));
  const when = (id: string): string => {
    const r = runs.get(id);
    return `${r?.recorded_at?.slice(0, 10) ?? '~'} ${r?.recorded_at ?? ''} ${id}`;
  };
  // an outcome pair whose earlier side is a KTO row (it found no partner when it came)
  const p = row(
    s.exports.pairs,
    (x) =>
      x.pair_type === 'outcome' &&
      s.exports.kto.some(
        (k) => k.run_id === (when(x.chosen_id) < when(x.rejected_id) ? x.chosen_id : x.rejected_id),
      ),
    'an outcome pair whose earlier side is a KTO row',
  );
  const [earlier, later] =
    when(p.chosen_id) < when(p.rejected_id) ? [p.chosen_id, p.rejected_id] : [p.rejected_id, p.chosen_id];
  const k = row(s.exports.kto, (x) => x.run_id === earlier, 'the KTO row of the earlier side');
  // the same count of rows, but the KTO row is the later run's (as if the pair had withdrawn it, or
  // the runs had been taken in the wrong order)
  const run = runs.get(later);
  assert.ok(run);
  k.run_id = later;
  k.label = run.category === 'accepted';
  k.provenance = run.provenance;
  assert.equal(
    onlyFails(s, 'A08'),
    `KTO ${k.id}: run ${later} also formed a pair when it arrived (the later side of a pair)`,
  );
});

test('A19 fails on a row filed under another day shard: a pair, an SFT row, a KTO row, a RAG chunk', async () => {
  const s = await snapshot();
  const shards = (folder: string): string[] =>
    Object.keys(s.files)
      .filter((k) => k.startsWith(`${folder}/`) && !k.slice(folder.length + 1).includes('/'))
      .sort();
  const moved: string[] = [];
  // the first row of the family's first non-empty day shard, moved to another shard file of the family
  const move = (folder: string): void => {
    const files = shards(folder);
    const from = files.find(
      (f) => /^\d{4}-/.test(f.split('/').pop() as string) && (s.files[f] as string) !== '',
    );
    assert.ok(from, `${folder} has a non-empty day shard`);
    const to = files.find((f) => f !== from) as string;
    const [first, ...rest] = (s.files[from] as string).split('\n');
    s.files[from] = rest.join('\n');
    s.files[to] = `${first}\n${s.files[to] as string}`;
    moved.push(
      `${to}: ${(JSON.parse(first as string) as { id: string }).id} belongs in shard ${from.split('/').pop()?.replace('.jsonl', '')}`,
    );
  };
  move('exports/preference/chosen_rejected');
  move('exports/sft/instruction_response');
  move('exports/preference/unpaired_kto');
  move('exports/rag/documents');
  const a19 = evaluate(s).find((r) => r.id === 'A19');
  assert.ok(a19 && !a19.ok);
  for (const m of moved) assert.ok(a19.detail.includes(m), `A19 names ${m}: ${a19.detail}`);
});

test('A09 fails when a source row changed after the build (edited on disk)', async () => {
  const built = await builtOnce();
  const s = await reloadedAfter(built, (root) => {
    const f = join(root, 'data/_kb/gateway_calls/2026-05-11.jsonl');
    writeFileSync(
      f,
      readFileSync(f, 'utf8').replace('feed it half an hour earlier', 'feed it forty minutes earlier'),
    );
  });
  assert.match(
    onlyFails(s, 'A09'),
    /^\w[^:]* \S+: source row data\/_kb\/gateway_calls\/2026-05-11\.jsonl:3 hashes to [0-9a-f]{12}…, the row records [0-9a-f]{12}…/,
  );
});

test('A10 fails when a canary reaches an export file, and names it without printing the secret', async () => {
  const s = await snapshot();
  const canary = s.expected.canaries[0] as { value: string; rule: string; source: string };
  const f = shardWith(s, 'exports/rag/documents', '"text":"');
  s.files[f] = (s.files[f] as string).replace('"text":"', `"text":"${canary.value} `);
  const detail = onlyFails(s, 'A10');
  assert.equal(detail, `the openai-api-key canary of ${canary.source} is in ${f}`);
  assert.ok(!detail.includes(canary.value));
});

test('A11 fails when a canary is quarantined under another secret rule', async () => {
  const s = await snapshot();
  const a = q(s, 'screen', (r) => r['reason'] === 'SECRET_DETECTED:openai-api-key', 'the OpenAI canary row');
  const b = q(s, 'screen', (r) => r['reason'] === 'SECRET_DETECTED:aws-access-token', 'the AWS canary row');
  [a['reason'], b['reason']] = [b['reason'], a['reason']];
  assert.equal(
    onlyFails(s, 'A11'),
    'data/_kb/gateway_calls/2026-05-13.jsonl:11: quarantined SECRET_DETECTED:aws-access-token, expected SECRET_DETECTED:openai-api-key; data/_kb/agent_trajectories/2026-05-14.jsonl:8: quarantined SECRET_DETECTED:openai-api-key, expected SECRET_DETECTED:aws-access-token',
  );
});

test('A12 fails when raw PII is written instead of its placeholder', async () => {
  const s = await snapshot();
  const f = shardWith(s, 'exports/sft/instruction_response', '<EMAIL_ADDRESS>');
  s.files[f] = (s.files[f] as string).replace('<EMAIL_ADDRESS>', 'wren.halloway@example.org');
  assert.equal(onlyFails(s, 'A12'), `EMAIL_ADDRESS of data/_kb/gateway_calls/2026-05-11.jsonl:1 is in ${f}`);
});

test('A13 fails when a duplicate points at the wrong unit kept', async () => {
  const s = await snapshot();
  q(s, 'screen', (r) => r['record_id'] === 'acc-g26', 'the duplicate acc-g26')['ref'] = 'acc-g24';
  assert.equal(
    onlyFails(s, 'A13'),
    'data/_kb/gateway_calls/2026-05-13.jsonl:3: DUPLICATE_OF ref acc-g24, but the unit kept at data/_kb/gateway_calls/2026-05-13.jsonl:2 is acc-g25',
  );
});

test('A14 fails when an export row copies an eval item', async () => {
  const s = await snapshot();
  const sft = s.exports.sft[0] as Snapshot['exports']['sft'][number];
  const user = row(sft.messages, (m) => m.role === 'user', 'a user turn') as { content: string };
  user.content += ' A lighthouse lamp turns once every twelve seconds and shows two white flashes per turn.';
  assert.match(
    onlyFails(s, 'A14'),
    new RegExp(
      `^sft ${sft.id}: text \\d+ shares a normalised 13-gram with a protected item \\(words \\d+–\\d+\\) at eval/held-out\\.jsonl:1$`,
    ),
  );
});

test('A15 fails when the second run-all rewrites an output differently', async () => {
  const s = await snapshot();
  const path = shardWith(s, 'exports/sft/instruction_response', '"id"');
  s.builds.rerun.hashes[path] = 'f'.repeat(64);
  assert.match(
    onlyFails(s, 'A15'),
    new RegExp(
      `^${path.replace(/[.]/g, '\\.')}: sha256 differs \\(first [0-9a-f]{12}…, rerun ffffffffffff…\\)$`,
    ),
  );
});

test('A16 fails when the shuffled build misses an output file', async () => {
  const s = await snapshot();
  delete s.builds.shuffled.hashes['data/screened/_summary.json'];
  assert.equal(onlyFails(s, 'A16'), 'data/screened/_summary.json: only in the first build');
});

test('A17 fails when a phase folder holds a file its manifest does not list (on disk)', async () => {
  const built = await builtOnce();
  const s = await reloadedAfter(built, (root) =>
    appendFileSync(join(root, 'exports/rag/notes.txt'), 'scratch\n'),
  );
  assert.equal(onlyFails(s, 'A17'), 'exports/rag/notes.txt: extra file: on disk but not in the manifest');
});

test('A18 fails when a receipt does not reconcile', async () => {
  const s = await snapshot();
  const item = row(s.receipts, (r) => r.phase.phase === 'score', 'the score receipt');
  (item.receipt as { counts: { out: number } }).counts.out += 1;
  assert.match(
    onlyFails(s, 'A18'),
    /^score: 113 evidence records in ≠ 109 out \+ 5 quarantined \+ 0 excluded = 114 \(reports\/distillation\/[^)]+\/score\.receipt\.json\); the receipt was edited or the phase miscounted/,
  );
});

test('A19 fails when a row lands in the other split than its task', async () => {
  const s = await snapshot();
  const r = s.exports.sft[0] as Snapshot['exports']['sft'][number];
  const was = r.split;
  r.split = was === 'train' ? 'test' : 'train';
  assert.match(
    onlyFails(s, 'A19'),
    new RegExp(`^sft ${r.id}: split ${r.split}, but its task \\S+ hashes to ${was}`),
  );
});

test('A20 fails when an OpenAI SFT row does not end on an assistant turn', async () => {
  const s = await snapshot();
  const f = shardWith(s, 'exports/sft/openai/train', '"messages"');
  const lines = (s.files[f] as string).split('\n');
  const first = JSON.parse(lines[0] as string) as { messages: unknown[] };
  first.messages = first.messages.slice(0, -1);
  lines[0] = JSON.stringify(first);
  s.files[f] = lines.join('\n');
  assert.match(
    onlyFails(s, 'A20'),
    new RegExp(
      `^${f.replace(/[.]/g, '\\.')}:1: messages: must end on an assistant turn, ends on (user|tool)`,
    ),
  );
});

test('A21 fails on an undeclared reason code, even when the pinned counts were updated to it', async () => {
  const s = await snapshot();
  q(s, 'screen', (r) => r['reason'] === 'PII_DENSE', 'the PII_DENSE row')['reason'] = 'PII_EVERYWHERE';
  const pinned = s.expected.quarantine['screen'] as Record<string, number>;
  delete pinned['PII_DENSE'];
  pinned['PII_EVERYWHERE'] = 1;
  assert.match(
    onlyFails(s, 'A21'),
    /^screen quarantine row \d+: unknown reason code PII_EVERYWHERE \(not declared by screen\)$/,
  );
});

test('A22 fails when a metric moves between the first run and the rerun', async () => {
  const s = await snapshot();
  const m = s.builds.rerun.summary?.metrics as Record<string, number>;
  assert.equal(m['p4_sft_rows'], 14);
  m['p4_sft_rows'] = 20;
  assert.equal(onlyFails(s, 'A22'), 'rerun vs first: drift warn; rerun vs first: p4_sft_rows 14 → 20');
});
