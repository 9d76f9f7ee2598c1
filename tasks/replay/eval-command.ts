import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SftSample } from '../../schemas/sft-sample.ts';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { readJsonlFiles } from '../lib/jsonl-read.ts';
import { EXPORT_DIRS, RAG_INDEX_DIR } from '../phases/registry.ts';
import { SFT_FAMILY } from '../phases/export-sft/contract.ts';
import { familyFiles } from '../lib/export/shards.ts';
import { readManifest } from '../lib/manifest.ts';
import { REPLAY_REPORTS_DIR } from '../replay/layout.ts';
import { log } from '../lib/log.ts';
import { loadConfig } from '../lib/project.ts';
import { UserError } from '../lib/result.ts';
import { callLogger } from './call-log.ts';
import { formatEvalReport } from './eval-report.ts';
import { runEval } from './eval.ts';
import { loadRagIndex } from './load-index.ts';
import { allDocs } from '../lib/rag-index.ts';
import { parseK, parseKind, REPLAY_EXIT } from './replay-command.ts';
import { resolveReplaySettings } from './settings.ts';

/** Usage line of `distill replay-eval`. */
export const REPLAY_EVAL_USAGE =
  'replay-eval [--k N] [--kind text|json] [--limit N] [--require-model] [--json]';

/** The SFT rows whose test split replay-eval runs: every day shard of exports/sft/instruction_response/. */
export const SFT_FILE = `${EXPORT_DIRS.sft}/${SFT_FAMILY}/*.jsonl`;

/** Reads the held-out (test split) rows of exports/sft (all shards, in id order), validated; other rows are not kept in memory. */
async function readTestRows(root: string): Promise<SftSample[]> {
  let files: string[];
  try {
    const m = await readManifest(root, EXPORT_DIRS.sft, 'npm run export-sft');
    if (m.parameters['export_layout'] === undefined) throw new Error('old layout');
    files = familyFiles(m.files, EXPORT_DIRS.sft, SFT_FAMILY).map((f) => f.path);
  } catch {
    throw new UserError(
      'UPSTREAM_MISSING',
      `${SFT_FILE} not found: build it with \`npm run export-sft\` (or \`distill export-sft\`)`,
    );
  }
  const rows: SftSample[] = [];
  for (const file of files) {
    let line = 0;
    for await (const raw of readJsonlFiles<unknown>(root, [file])) {
      line++;
      const res = SftSample.safeParse(raw);
      if (!res.success)
        throw new UserError(
          'UPSTREAM_DAMAGED',
          `${file}:${line} is not an SftSample (${res.error.issues[0]?.path.join('.')}: ${res.error.issues[0]?.message}); rebuild it with \`npm run export-sft\``,
        );
      if (res.data.split === 'test') rows.push(res.data);
    }
  }
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `distill replay-eval`: the A/B over held-out tasks plus retrieval quality (see docs/replay.md). */
export async function replayEvalCommand(root: string, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      k: { type: 'string' },
      kind: { type: 'string' },
      limit: { type: 'string' },
      'require-model': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const kind = parseKind(values.kind);
  let limit: number | null = null;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UserError('USAGE', `--limit must be a positive integer, got "${values.limit}"`);
  }
  const { settings: base } = resolveReplaySettings(loadConfig(root).replay, process.env);
  const settings = { ...base, k: parseK(values.k, base.k) };
  const { index, warning } = await loadRagIndex(root);
  if (warning) log.warn(warning);
  const sftRows = await readTestRows(root);

  const report = await runEval(
    settings,
    {
      index,
      corpus: allDocs(index),
      indexPath: `${RAG_INDEX_DIR}/`,
      sftFile: SFT_FILE,
      sftRows,
    },
    { kind, limit },
    process.env,
    callLogger(root, settings),
    (m) => log.info(m),
  );
  const md = formatEvalReport(report);
  await writeFileAtomic(join(root, REPLAY_REPORTS_DIR, 'eval.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(root, REPLAY_REPORTS_DIR, 'eval.md'), md);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : md);

  const fam = report.retrieval.family;
  const line = `replay-eval: ${report.tasks.evaluated} held-out tasks; family hit@${settings.k} ${fam.hit_at_k ?? '—'}, recall@${settings.k} ${fam.recall_at_k ?? '—'}; model arms ${report.model.status === 'available' ? 'ran' : 'unavailable'} → ${REPLAY_REPORTS_DIR}/eval.json, eval.md`;
  if (report.model.status === 'unavailable') {
    log.warn(report.model.note ?? 'model arms unavailable');
    if (values['require-model'] === true) {
      log.error(`${line} (--require-model: failing because no model ran)`);
      return REPLAY_EXIT.model;
    }
  } else if (report.model.note) log.warn(report.model.note);
  log.done(line);
  return 0;
}
