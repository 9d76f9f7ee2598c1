import type { Provenance } from '../../../schemas/provenance.ts';
import { canonicalJson } from '../../lib/hash.ts';
import { normaliseForCompare } from '../../lib/export/messages.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../../phases/export-preference/contract.ts';
import { isSftNever, SFT_FAMILY, sftAllowed } from '../../phases/export-sft/contract.ts';
import { EXPORT_DIRS, SCORED_DIR } from '../../phases/registry.ts';
import type { AuditContext, CheckFn } from './check-list.ts';
import { Findings, plural } from './findings.ts';
import { activePhase, dataFilesOf, familyPaths, phaseManifest, readRows, TRAINING_FILES } from './rows.ts';

/**
 * What must never be in training data: a rejected / needs-review run in SFT, a self-pair or a pair
 * of identical texts, and a task in both train and test.
 */

type Row = Record<string, unknown>;

/** Every valid-JSON row of a file with its `file:line` label; unreadable files are findings. */
async function* rowsOf(
  ctx: AuditContext,
  rel: string,
  f: Findings,
  command: string,
): AsyncGenerator<{ at: string; row: Row }> {
  // `<dir>/<family>` without .jsonl: every shard file of that export family
  const files = rel.endsWith('.jsonl')
    ? [rel]
    : await familyPaths(ctx.root, rel.slice(0, rel.lastIndexOf('/')), rel.slice(rel.lastIndexOf('/') + 1));
  try {
    for (const file of files)
      for await (const r of readRows(ctx.root, file))
        if (r.ok && r.value !== null && typeof r.value === 'object')
          yield { at: `${file}:${r.line}`, row: r.value as Row };
  } catch (e) {
    f.add(
      `${rel}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); build it with \`${command}\``,
    );
  }
}

/** run_id → category of every scored run (memory: one entry per run), or null when not built. */
async function scoredCategories(ctx: AuditContext): Promise<Map<string, string> | null> {
  const m = await phaseManifest(ctx.root, SCORED_DIR);
  if (!m.ok) return null;
  const out = new Map<string, string>();
  for (const rel of dataFilesOf(m.value))
    for await (const r of readRows(ctx.root, rel))
      if (r.ok) out.set(String((r.value as Row)['run_id']), String((r.value as Row)['category']));
  return out;
}

/** sft-categories: each SFT row's label is allowed for its folder, and the run it came from was scored with that category. */
export const sftCategories: CheckFn = async (ctx) => {
  const f = new Findings();
  const scored = await scoredCategories(ctx);
  if (!scored)
    f.add(
      `${SCORED_DIR}/_manifest.json is missing or invalid, so SFT rows cannot be matched to their runs; build it with \`npm run score\``,
    );
  let rows = 0;
  for (const [dir, partial] of [
    [EXPORT_DIRS.sft, false],
    [EXPORT_DIRS.sftPartial, true],
  ] as const) {
    const phase = activePhase(ctx, dir);
    if (!phase) continue;
    const allowed: readonly string[] = sftAllowed(partial);
    for await (const { at, row } of rowsOf(ctx, `${dir}/${SFT_FAMILY}`, f, `npm run ${phase.script}`)) {
      rows++;
      const label = String(row['quality_score']);
      const runId = String(row['run_id']);
      if (isSftNever(label) || !allowed.includes(label))
        f.add(
          `${at} (${String(row['id'])}): quality_score ${label} is not allowed in ${dir}/ (only ${allowed.join(', ')}): a forbidden run reached SFT; rebuild with \`npm run ${phase.script}\` and check SFT_NEVER in tasks/phases/export-sft/run.ts`,
        );
      const category = scored?.get(runId);
      if (scored && category === undefined)
        f.add(
          `${at} (${String(row['id'])}): run ${runId} is not among the scored runs in ${SCORED_DIR}/ (the export is stale); rebuild with \`npm run run-all\``,
        );
      else if (
        category !== undefined &&
        (isSftNever(category) || !allowed.includes(category) || category !== label)
      )
        f.add(
          `${at} (${String(row['id'])}): run ${runId} is scored ${category} but the row says ${label}${isSftNever(category) ? ': a forbidden run reached SFT' : ''}; rebuild with \`npm run run-all\``,
        );
    }
  }
  return f.outcome(`${plural(rows, 'SFT row')}: every label allowed and equal to its run's scored category`);
};

const sameRow = (a: Provenance | undefined, b: Provenance | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.source_file === b.source_file &&
  a.line_offset === b.line_offset &&
  a.sig_hash === b.sig_hash;

/** The chosen and rejected sides of a preference row in any of our formats, as comparable text. */
function sidesOf(row: Row): [string, string] | null {
  const pick = (a: string, b: string): [string, string] | null =>
    a in row && b in row ? [textOf(row[a]), textOf(row[b])] : null;
  return pick('chosen', 'rejected') ?? pick('preferred_output', 'non_preferred_output');
}
/**
 * A pair side for comparison: a string, one message or a continuation (a list of messages, the
 * canonical shape since pairs share their prompt). Message text is compared up to whitespace; the
 * rest of a message (role, tool calls) exactly.
 */
function textOf(v: unknown): string {
  if (typeof v === 'string') return normaliseForCompare(v);
  if (Array.isArray(v)) return canonicalJson(v.map((m) => textOf(m)));
  if (v !== null && typeof v === 'object' && typeof (v as Row)['content'] === 'string')
    return canonicalJson({ ...(v as Row), content: normaliseForCompare((v as Row)['content'] as string) });
  return canonicalJson(v);
}

/** preference-pairs: no pair of a row with itself (same id, or both sides one source row unless a judgment) and no identical texts, in every preference file. */
export const preferencePairs: CheckFn = async (ctx) => {
  const f = new Findings();
  const phase = activePhase(ctx, EXPORT_DIRS.preference);
  if (!phase) return f.outcome('no preference export in this pipeline');
  const fix = `rebuild with \`npm run ${phase.script}\`; the miner's pairOrDrop (tasks/phases/export-preference/mining.ts) must refuse these`;
  let pairs = 0;
  for await (const { at, row } of rowsOf(
    ctx,
    `${EXPORT_DIRS.preference}/${PAIR_FAMILY}`,
    f,
    `npm run ${phase.script}`,
  )) {
    pairs++;
    const id = String(row['id']);
    if (row['chosen_id'] === row['rejected_id'])
      f.add(
        `${at} (${id}): self-pair: chosen_id and rejected_id are both ${String(row['chosen_id'])}; ${fix}`,
      );
    else if (
      row['pair_type'] !== 'judgment' &&
      sameRow(row['chosen_provenance'] as Provenance, row['rejected_provenance'] as Provenance)
    )
      f.add(
        `${at} (${id}): self-pair: both sides come from one source row ${(row['chosen_provenance'] as Provenance).source_file}:${(row['chosen_provenance'] as Provenance).line_offset + 1}; ${fix}`,
      );
    const s = sidesOf(row);
    if (s && s[0] === s[1])
      f.add(`${at} (${id}): chosen and rejected texts are identical (up to whitespace); ${fix}`);
  }
  const m = await phaseManifest(ctx.root, EXPORT_DIRS.preference);
  let formatRows = 0;
  if (m.ok) {
    for (const rel of dataFilesOf(m.value).filter(
      (p) =>
        p.endsWith('.jsonl') &&
        !p.startsWith(`${EXPORT_DIRS.preference}/${PAIR_FAMILY}/`) &&
        !p.startsWith(`${EXPORT_DIRS.preference}/${KTO_FAMILY}/`),
    )) {
      for await (const { at, row } of rowsOf(ctx, rel, f, `npm run ${phase.script}`)) {
        const s = sidesOf(row);
        if (!s) continue; // KTO rows have no pair
        formatRows++;
        if (s[0] === s[1]) f.add(`${at}: chosen and rejected are identical; ${fix}`);
      }
    }
  }
  return f.outcome(
    `${plural(pairs, 'pair')} and ${plural(formatRows, 'format row')}: no self-pair, no identical texts`,
  );
};

/** split-leakage: across every training export, a task_key is in train or in test, never both. */
export const splitLeakage: CheckFn = async (ctx) => {
  const f = new Findings();
  const seen = new Map<string, { split: string; at: string }>();
  const leaked = new Set<string>();
  let rows = 0;
  for (const [dir, file] of TRAINING_FILES) {
    const phase = activePhase(ctx, dir);
    if (!phase) continue;
    for await (const { at, row } of rowsOf(ctx, `${dir}/${file}`, f, `npm run ${phase.script}`)) {
      rows++;
      const task = row['task_key'];
      if (typeof task !== 'string') continue; // a row without a task is split on its own
      const split = String(row['split']);
      const first = seen.get(task);
      if (!first) seen.set(task, { split, at });
      else if (first.split !== split && !leaked.has(task)) {
        leaked.add(task);
        f.add(
          `task_key ${task} is in ${first.split} (${first.at}) and in ${split} (${at}): the test split leaks into training; splits must come from splitOf(task_key) (tasks/lib/export/split.ts); rebuild with \`npm run run-all\``,
        );
      }
    }
  }
  return f.outcome(
    `${plural(rows, 'training row')} over ${plural(seen.size, 'task')}: each task in one split`,
  );
};
