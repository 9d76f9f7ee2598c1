import { leftOutText } from '../../lib/quarantine.ts';
import { fileLines } from '../../lib/jsonl-read.ts';
import { EXCLUDED } from './contract.ts';
import { CATEGORIES, type Category } from '../../../schemas/category.ts';
import type { ChatMessage } from '../../../schemas/chat.ts';
import type { DistillConfig } from '../../../schemas/config.ts';
import { SCHEMA_VERSION as QUARANTINE_V } from '../../../schemas/quarantine-record.ts';
import { SCHEMA_VERSION as SCORED_V, type ScoredRun } from '../../../schemas/scored-run.ts';
import { SftSample, SCHEMA_VERSION as SFT_V } from '../../../schemas/sft-sample.ts';
import { openaiSftRow } from '../../lib/export/formats/openai.ts';
import { renderCard } from '../../lib/export/formats/hf-card.ts';
import { trlSftRow } from '../../lib/export/formats/trl.ts';
import { readLocated } from '../../lib/export/inputs.ts';
import { screenedFiles } from '../../lib/upstream.ts';
import { prepareConversation, withCorrection } from '../../lib/export/conversation.ts';
import { hasText } from '../../lib/export/messages.ts';
import { toSubstance } from '../../lib/export/substance.ts';
import { declaredTools } from '../../lib/export/tools.ts';
import { fanOutSharded, QuarantineSorter, rescanExport } from '../../lib/export/output.ts';
import {
  EXPORT_LAYOUT,
  familyShard,
  previousBuild,
  quarantineShard,
  reuseShard,
  saveBuild,
  shardEntries,
  shardOfInput,
  sidecarShard,
  sortedShards,
  splitShard,
  type ShardRecord,
} from '../../lib/export/shards.ts';
import type { FileEntry } from '../../../schemas/stage-receipt.ts';
import { EXPORT_SORT_CHARS, ExternalSorter } from '../../lib/external-sort.ts';
import { canonicalJson, contentId } from '../../lib/hash.ts';
import {
  isSftNever,
  PARTIAL_PHASE,
  PHASE,
  SFT_DIR,
  SFT_FAMILY,
  SFT_PARTIAL_DIR,
  sftAllowed,
  type Reason as ExportSftReason,
  type SftQuality,
} from './contract.ts';
import { n } from '../../lib/log.ts';
import { bump, sortedCounts, type PhaseResult } from '../../lib/phase.ts';
import { stagedPhase, type ShellContext } from '../../lib/phase-shell.ts';
import { SPLITS, splitGroup, splitOf, type Split } from '../../lib/export/split.ts';

export type SftOutcome =
  { type: 'keep'; sample: SftSample } | { type: 'drop'; reason: ExportSftReason; detail: string };

/**
 * Pure core: one scored run → an SftSample or a drop. Assistant reasoning is removed, roles are
 * repaired for chat templates (each repair recorded on the row), the conversation is cut after
 * its last substantive assistant turn (a trailing courtesy exchange is not a target); a partially
 * accepted run's last substantive turn is replaced by the human correction when there is one.
 * Tools: the source's, plus a derived definition for every called tool the source did not define.
 */
export function toSftSample(
  run: ScoredRun,
  opts: { allowed: readonly Category[]; testFraction: number },
): SftOutcome {
  const drop = (reason: ExportSftReason, detail: string): SftOutcome => ({ type: 'drop', reason, detail });
  if (isSftNever(run.category))
    return drop('CATEGORY_EXCLUDED', `${run.category} runs never reach SFT (SFT_NEVER)`);
  if (!opts.allowed.includes(run.category))
    return drop(
      'CATEGORY_EXCLUDED',
      `${run.category} runs are exported only with --include-partial (exports/sft-partial)`,
    );
  const all = run.run.messages;
  if (all.length === 0) return drop('EMPTY_CONVERSATION', 'the run has no messages');
  if (!all.some((m) => m.role === 'assistant'))
    return drop('NO_ASSISTANT_TURN', `the run's ${all.length} messages have no assistant turn`);
  const prepared = prepareConversation(all);
  if (prepared.type === 'drop') return drop(prepared.reason, prepared.detail);
  if (!prepared.messages.some((m) => m.role === 'user'))
    return drop('NO_USER_TURN', 'no user turn: there is no instruction to learn from');
  const corrected =
    run.category === 'partially_accepted' && hasText(run.correction)
      ? withCorrection(prepared.messages, run.correction)
      : null;
  const messages: ChatMessage[] = corrected ?? toSubstance(prepared.messages);
  if (messages.length === 0)
    return drop(
      'NO_SUBSTANCE',
      'no assistant turn does work: each is empty or only a pleasantry, so there is no answer to learn',
    );
  const quality = run.category as SftQuality;
  const { tools, derived } = declaredTools(run.run.tools, [messages]);
  const sample = SftSample.parse({
    schema_version: SFT_V,
    id: contentId('sft', run.run_id, quality, canonicalJson({ messages, tools })),
    run_id: run.run_id,
    task_key: run.task_key,
    quality_score: quality,
    messages,
    tools,
    derived_tools: derived,
    repairs: prepared.repairs,
    split: splitOf(splitGroup(run.task_key, run.run_id), opts.testFraction),
    provenance: run.provenance,
  });
  return { type: 'keep', sample };
}

/**
 * Layer 3: re-reads a written SFT file and throws, naming the line, if any row's quality_score is
 * not in `allowed` or the row is not a valid SftSample. Returns the row count.
 */
export async function verifySftFile(path: string, allowed: readonly string[], label = path): Promise<number> {
  const rl = fileLines(path);
  let line = 0;
  let rows = 0;
  for await (const text of rl) {
    line++;
    if (text === '') continue;
    rows++;
    const row = JSON.parse(text) as { quality_score?: unknown; id?: unknown };
    if (typeof row.quality_score !== 'string' || !allowed.includes(row.quality_score)) {
      throw new Error(
        `SFT re-read check failed: ${label}:${line} (${String(row.id)}) has quality_score ${JSON.stringify(row.quality_score)}, allowed: ${allowed.join(', ')}. ` +
          'A forbidden run got past the SFT_NEVER filter and the schema; nothing was published.',
      );
    }
    const res = SftSample.safeParse(row);
    if (!res.success)
      throw new Error(
        `SFT re-read check failed: ${label}:${line} is not a valid SftSample ($.${res.error.issues[0]?.path.join('.')}: ${res.error.issues[0]?.message}); nothing was published`,
      );
  }
  return rows;
}

/** Options of one SFT export variant. `hooks` exist for tests only. */
export interface ExportSftOptions {
  includePartial: boolean;
  hooks?: { beforeVerify?: (stagedSftFile: string) => Promise<void> };
}

/** What an SFT build remembers of each shard (for the next incremental build and its counts). */
interface SftShard {
  runs_in: number;
  rows: number;
  train: number;
  test: number;
  quarantined: number;
  with_tools: boolean;
  by_category: Record<string, number>;
  by_reason: Record<string, number>;
}

const emptyShard = (): SftShard => ({
  runs_in: 0,
  rows: 0,
  train: 0,
  test: 0,
  quarantined: 0,
  with_tools: false,
  by_category: {},
  by_reason: {},
});

/**
 * The export-sft phase (strict, or the --include-partial variant into exports/sft-partial), one
 * shard per day file of screened runs (lib/export/shards.ts). A shard's rows depend only on its day
 * file and the parameters, so a shard whose input has the sha256 the previous build recorded is
 * linked from the published folder (each file's sha256 checked), not built again; the others stream
 * through external sorts (memory does not grow with the number of runs) and are written in
 * (shard, id) order in one pass. The one value shared by all shards, whether any row declares tools
 * (the TRL / HF rows then all carry a `tools` column), is checked: when it changed, every shard is
 * built again.
 */
export async function exportSft(
  root: string,
  config: DistillConfig,
  opts: ExportSftOptions,
): Promise<PhaseResult> {
  const phase = opts.includePartial ? PARTIAL_PHASE : PHASE;
  const dir = opts.includePartial ? SFT_PARTIAL_DIR : SFT_DIR;
  const allowed = sftAllowed(opts.includePartial);
  const testFraction = config.exports.test_fraction;
  const { runs: inputs } = await screenedFiles(root);
  const parameters = {
    export_layout: EXPORT_LAYOUT,
    include_partial: opts.includePartial,
    quality_allowed: [...allowed],
    test_fraction: testFraction,
  };
  return stagedPhase(root, { phase: phase, outDir: dir }, async (ctx) => {
    const prev = await previousBuild<SftShard>(root, phase, dir, parameters);
    const allShards = inputs.map((f) => ({ shard: shardOfInput(f.path), file: f }));
    const shardNames = sortedShards(allShards.map((x) => x.shard));
    if (shardNames.length !== allShards.length) throw new Error('two screened run files map to one shard');
    const prevTools = prev ? [...prev.shards.values()].some((r) => r.data.with_tools) : false;

    let reuseAllowed = prev !== null;
    for (;;) {
      const { staged, scratch } = ctx;
      const records = new Map<string, ShardRecord<SftShard>>();
      const reused = new Set<string>();
      const fresh: typeof allShards = [];
      for (const x of allShards) {
        const was = reuseAllowed && prev ? prev.shards.get(x.shard) : undefined;
        if (was && was.input === x.file.sha256) {
          const rels = await reuseShard(root, staged, dir, shardEntries(prev!, dir, x.shard), prev!);
          if (rels) {
            for (const r of rels) reused.add(r);
            records.set(x.shard, was);
            continue;
          }
        }
        fresh.push(x);
      }
      const samples = new ExternalSorter(scratch.dir, 'samples', EXPORT_SORT_CHARS);
      const quarantine = new QuarantineSorter(scratch.dir, phase);
      for (const x of fresh) {
        const d = emptyShard();
        for await (const row of readLocated(root, [x.file.path])) {
          const run = row.value as ScoredRun;
          d.runs_in++;
          bump(d.by_category, run.category);
          const out = toSftSample(run, { allowed, testFraction });
          if (out.type === 'keep') {
            d.rows++;
            d[out.sample.split]++;
            d.with_tools ||= out.sample.tools.length > 0;
            await samples.add(`${x.shard}\u0000${out.sample.id}`, JSON.stringify(out.sample));
          } else {
            d.quarantined++;
            bump(d.by_reason, out.reason);
            await quarantine.add(
              {
                reason: out.reason,
                detail: out.detail,
                provenance: run.provenance,
                record: run.run_id,
                trace: run.run_id,
                ref: null,
              },
              x.shard,
            );
          }
        }
        d.by_category = sortedCounts(d.by_category);
        d.by_reason = sortedCounts(d.by_reason);
        records.set(x.shard, { input: x.file.sha256, data: d });
      }
      const withTools = [...records.values()].some((r) => r.data.with_tools);
      if (reused.size > 0 && withTools !== prevTools) {
        // the tools column of every TRL / HF row changes: no shard can be reused
        reuseAllowed = false;
        await ctx.restart();
        continue;
      }
      const freshNames = fresh.map((x) => x.shard);
      await fanOutSharded<SftSample>(
        staged,
        samples,
        SFT_FAMILY,
        [
          { prefix: 'openai', convert: openaiSftRow, idSidecar: true },
          { prefix: 'trl', convert: (s) => trlSftRow(s, withTools) },
          { prefix: 'hf/data', sameRowsAs: 'trl' },
        ],
        freshNames,
      );
      await quarantine.write(staged, freshNames);
      return finishSft(ctx, {
        dir,
        phase,
        opts,
        allowed,
        parameters,
        inputs,
        records,
        reused,
        freshNames,
        allowlist: config.secret_allowlist,
      });
    }
  });
}

async function finishSft(
  ctx: ShellContext,
  b: {
    dir: string;
    phase: string;
    opts: ExportSftOptions;
    allowed: readonly SftQuality[];
    parameters: Record<string, unknown>;
    inputs: FileEntry[];
    records: Map<string, ShardRecord<SftShard>>;
    reused: Set<string>;
    freshNames: string[];
    allowlist: readonly string[];
  },
) {
  const { staged } = ctx;
  const { dir, opts, allowed } = b;
  const total = emptyShard();
  const byCategory: Record<string, number> = Object.fromEntries(CATEGORIES.map((c) => [c, 0]));
  const byReasonAll: Record<string, number> = {};
  const expectedRows: Record<string, number> = {};
  for (const [shard, { data: d }] of b.records) {
    total.runs_in += d.runs_in;
    total.rows += d.rows;
    total.train += d.train;
    total.test += d.test;
    total.quarantined += d.quarantined;
    for (const [k, v] of Object.entries(d.by_category)) bump(byCategory, k, v);
    for (const [k, v] of Object.entries(d.by_reason)) bump(byReasonAll, k, v);
    expectedRows[familyShard(SFT_FAMILY, shard)] = d.rows;
    expectedRows[quarantineShard(shard)] = d.quarantined;
    for (const s of SPLITS) {
      for (const p of ['openai', 'trl', 'hf/data']) expectedRows[splitShard(p, s, shard)] = d[s];
      expectedRows[sidecarShard('openai', s, shard)] = d[s];
    }
  }
  const byReason = sortedCounts(byReasonAll);
  const { runs_in: runsIn, rows, quarantined: dropCount } = total;
  const parts: Record<Split, number> = { train: total.train, test: total.test };
  const configName = opts.includePartial ? 'sft_partial' : 'sft';
  await staged.writeFile(
    'hf/README.md',
    renderCard({
      prettyName: opts.includePartial
        ? 'distill SFT (accepted + partially accepted runs)'
        : 'distill SFT (accepted runs only)',
      tags: ['sft', 'agent-traces', 'distill'],
      configs: [
        {
          name: configName,
          default: true,
          splits: SPLITS.map((s) => ({ split: s, path: `data/${s}/*.jsonl`, rows: parts[s] })),
        },
      ],
      body: [
        `# ${configName}`,
        '',
        `Supervised fine-tuning conversations exported by \`distill ${opts.includePartial ? 'export-sft --include-partial' : 'export-sft'}\` from runs whose category is ${allowed.join(' or ')}.`,
        'Rows are TRL conversational language-modeling rows (`messages`, plus `tools` when any row declares tools; tool-call `arguments` are JSON objects) with the `id` of the SftSample they came from.',
        "Each conversation ends on its last substantive assistant turn (no trailing pleasantry) and keeps to role orders every common chat template accepts. Tools are the ones the source offered; a called tool the source did not define has a definition derived from its calls (listed in the SftSample's `derived_tools`).",
        'Each split is one file per day of the traces (`data/<split>/<YYYY-MM-DD>.jsonl`, `undated.jsonl`); `load_dataset` reads them all through the globs above. Splits are assigned by a hash of the task_key, so one task never appears in both. Trace any row back to its source line with `distill trace <id>`.',
      ],
    }),
  );
  await staged.closeAll();
  for (const shard of b.freshNames) {
    const rel = familyShard(SFT_FAMILY, shard);
    const stagedSft = staged.stagedPath(rel);
    if (opts.hooks?.beforeVerify) await opts.hooks.beforeVerify(stagedSft);
    const expect = b.records.get(shard)?.data.rows ?? 0;
    const reread = await verifySftFile(stagedSft, allowed, `${dir}/${rel}`);
    if (reread !== expect)
      throw new Error(
        `SFT re-read check failed: ${dir}/${rel} has ${reread} rows, expected ${expect}; nothing was published`,
      );
  }
  if (runsIn !== rows + dropCount)
    throw new Error(`accounting broke: ${runsIn} runs ≠ ${rows} exported + ${dropCount} quarantined`);
  const schemaVersions = { ScoredRun: SCORED_V, SftSample: SFT_V, QuarantineRecord: QUARANTINE_V };
  const counts = { runs_in: runsIn, rows, train: parts.train, test: parts.test, quarantined: dropCount };
  const reusedShards = b.records.size - b.freshNames.length;
  return {
    parameters: b.parameters,
    schemaVersions,
    inputs: b.inputs,
    expectedRows,
    manifestCounts: counts,
    beforePublish: rescanExport(dir, b.allowlist, b.reused),
    afterPublish: (manifest: string) => saveBuild(ctx.root, b.phase, b.parameters, manifest, b.records),
    counts: { in: runsIn, out: rows, quarantined: dropCount, by_reason: byReason },
    stats: {
      rows,
      train: parts.train,
      test: parts.test,
      ...Object.fromEntries(Object.entries(sortedCounts(byCategory)).map(([k, v]) => [`runs.${k}`, v])),
    },
    summary: `${n(runsIn)} runs → ${n(rows)} SFT rows (${n(parts.train)} train, ${n(parts.test)} test) in ${dir}/${dropCount ? `; ${leftOutText(byReason, EXCLUDED)}` : ''}${reusedShards > 0 ? ` (incremental: ${n(b.freshNames.length)} day shards built, ${n(reusedShards)} unchanged reused)` : ''}`,
  };
}
