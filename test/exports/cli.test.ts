import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { helpText } from '../../tasks/cli/commands.ts';
import { cliInProcess as cli } from '../helpers/project.ts';
import {
  makeProject,
  mkRun,
  readRows,
  runEvidence,
  writeEvidence,
  writeScored,
  writeSourceJsonl,
} from './fixture.ts';

async function project() {
  const { root } = await makeProject();
  const rows = [
    { trace_id: 'a', answer: 'yes' },
    { trace_id: 'r', answer: 'no' },
    { trace_id: 'p', answer: 'maybe' },
  ];
  const [pa, pr, pp] = await writeSourceJsonl(root, 'data/_kb/gateway.jsonl', rows);
  const runs = [
    mkRun({ id: 'a', category: 'accepted', task: 'T', answer: 'yes', provenance: pa }),
    mkRun({ id: 'r', category: 'rejected', task: 'T', answer: 'no', provenance: pr }),
    mkRun({
      id: 'p',
      category: 'partially_accepted',
      task: 'U',
      answer: 'maybe',
      correction: 'surely',
      provenance: pp,
    }),
  ];
  await writeScored(root, { 'runs.jsonl': runs });
  await writeEvidence(root, { 'ev.jsonl': runs.map(runEvidence) });
  return root;
}

test('distill --help lists the export commands and trace', () => {
  const help = helpText(100);
  for (const usage of [
    'export-rag',
    'export-sft [--include-partial]',
    'export-preference',
    'export-all',
    'trace <export-row-id | export-file.jsonl:line> [--json]',
  ])
    assert.match(help, new RegExp(`\\n  ${usage.replace(/[[\]<>-]/g, '\\$&')}\\n {6}\\S`));
});

test('distill export-all builds rag, sft and preference; --include-partial writes exports/sft-partial', async () => {
  const root = await project();
  const all = await cli(['export-all', '--root', root]);
  assert.equal(all.code, 0, all.err);
  assert.match(
    all.err,
    /✔ export-rag: 3 runs \+ 0 documents → 2 documents in 2 chunks; 1 excluded by policy \(1 CATEGORY_EXCLUDED\)/,
  );
  assert.match(
    all.err,
    /✔ export-sft: 3 runs → 1 SFT rows \(1 train, 0 test\) in exports\/sft\/; 2 excluded by policy \(2 CATEGORY_EXCLUDED\)/,
  );
  assert.match(
    all.err,
    // a comes first and finds no partner then: a KTO row (r pairs with it later)
    /✔ export-preference: 3 runs \+ 0 judgments → 2 pairs \(1 outcome, 1 correction, 0 judgment\), 1 unpaired KTO rows \(/,
  );
  assert.equal(existsSync(join(root, 'exports/sft-partial')), false);
  const partial = await cli(['export-sft', '--include-partial', '--root', root]);
  assert.equal(partial.code, 0, partial.err);
  assert.deepEqual(
    (await readRows(root, 'exports/sft-partial/instruction_response')).map((r) => r['run_id']),
    ['a', 'p'].sort(),
  );
  for (const phase of ['export-rag', 'export-sft', 'export-sft-partial', 'export-preference'])
    assert.ok(existsSync(join(root, 'reports/distillation/latest', `${phase}.receipt.json`)), phase);
  const bad = await cli(['export-sft', '--partial', '--root', root]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Usage: distill export-sft \[--include-partial\]/);
});

test('distill trace exits 0 when the source rows match and 1 after a source row changes', async () => {
  const root = await project();
  assert.equal((await cli(['export-preference', '--root', root])).code, 0);
  const [pair] = await readRows(root, 'exports/preference/chosen_rejected').then((rs) =>
    rs.filter((r) => r['pair_type'] === 'outcome'),
  );
  const id = pair?.['id'] as string;
  const ok = await cli(['trace', id, '--root', root]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /✔ 2 of 2 source rows unchanged\n$/);
  const json = await cli(['trace', id, '--json', '--root', root]);
  assert.equal((JSON.parse(json.out) as { ok: boolean }).ok, true);
  await fsp.writeFile(
    join(root, 'data/_kb/gateway.jsonl'),
    `${JSON.stringify({ trace_id: 'a', answer: 'YES' })}\n${JSON.stringify({ trace_id: 'r', answer: 'no' })}\n`,
  );
  const changed = await cli(['trace', id, '--root', root]);
  assert.equal(changed.code, 1);
  assert.match(changed.out, /✖ MISMATCH/);
  assert.match(changed.out, /✖ 1 of 2 source rows changed or untraceable/);
  const missing = await cli(['trace', '--root', root]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /trace takes exactly one export row id/);
});
