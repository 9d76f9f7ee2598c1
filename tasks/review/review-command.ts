import { appendFileSync, existsSync, mkdirSync, openSync, fsyncSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DistillConfig } from '../../schemas/config.ts';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import { readLocated } from '../lib/export/inputs.ts';
import { screenedFiles } from '../lib/upstream.ts';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { loadConfig } from '../lib/project.ts';
import { UserError } from '../lib/result.ts';
import { safeJson, safeText } from '../lib/terminal-text.ts';
import { decisionProblems, queueMarkdown, queueText, reviewQueue, reviewRow, type Verdict } from './queue.ts';

/** Where the queue is written, relative to the project root. */
export const QUEUE_DIR = 'reports/review';

/**
 * The ledger a decision is appended to: `--ledger`, else `distill-review.jsonl` in the folder of
 * the first `human-review` source whose glob is `<folder>/*.jsonl` (so build-evidence reads it).
 */
export function ledgerPath(config: DistillConfig, explicit: string | undefined): string {
  if (explicit) return explicit;
  for (const s of config.sources) {
    if (s.adapter !== 'human-review') continue;
    for (const g of s.files) {
      const m = /^(.*)\/\*\.jsonl$/.exec(g);
      if (m && !/[*?[\]{}!]/.test(m[1] as string)) return `${m[1]}/distill-review.jsonl`;
    }
  }
  throw new UserError(
    'CONFIG_INVALID',
    'no source with adapter "human-review" and a `<folder>/*.jsonl` glob in distill.config.json: add one (e.g. {"stream": "human_reviews", "adapter": "human-review", "files": ["data/_kb/human_reviews/*.jsonl"]}) or pass --ledger <file> that a human-review source reads',
  );
}

/** Appends one JSON line durably; refuses a ledger whose last line is torn. */
function appendLine(path: string, row: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    if (text !== '' && !text.endsWith('\n'))
      throw new UserError(
        'INPUT_UNREADABLE',
        `${path} does not end with a newline (a torn last row?): mend it before recording more`,
      );
  }
  appendFileSync(path, `${JSON.stringify(row)}\n`);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The corrected answer from --answer-file; a file that cannot be read is INPUT_UNREADABLE, not a stack trace. */
function readAnswer(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(
      'INPUT_UNREADABLE',
      `cannot read --answer-file ${safeText(file)} (${safeText(code)}): give a readable file with the corrected answer, or pass it with --answer`,
    );
  }
}

/** `distill review`: list the queue, or record a decision with --decide. */
export async function reviewCommand(
  root: string,
  argv: string[],
  now: () => Date = () => new Date(),
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      decide: { type: 'string' },
      verdict: { type: 'string' },
      reviewer: { type: 'string' },
      answer: { type: 'string' },
      'answer-file': { type: 'string' },
      comment: { type: 'string' },
      at: { type: 'string' },
      ledger: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const config = loadConfig(root);
  const { runs: files } = await screenedFiles(root);
  const runs: ScoredRun[] = [];
  for await (const row of readLocated(
    root,
    files.map((f) => f.path),
  ))
    runs.push(row.value as ScoredRun);
  if (values.decide === undefined) {
    const q = reviewQueue(runs);
    await writeFileAtomic(
      join(root, QUEUE_DIR, 'queue.jsonl'),
      q.map((e) => `${safeJson(JSON.stringify(e))}\n`).join(''),
    );
    await writeFileAtomic(join(root, QUEUE_DIR, 'queue.md'), queueMarkdown(q));
    process.stdout.write(
      values.json
        ? `${safeJson(JSON.stringify(q, null, 2))}\n`
        : `${queueText(q, `${QUEUE_DIR}/queue.md`)}\n`,
    );
    return 0;
  }
  const runId = values.decide;
  if (!runs.some((r) => r.run_id === runId))
    throw new UserError(
      'NO_SUCH_RUN',
      `run ${safeText(runId)} is not in data/screened/runs: check the id with \`distill review\``,
    );
  if (values.answer !== undefined && values['answer-file'] !== undefined)
    throw new UserError('USAGE', 'give the corrected answer once: --answer or --answer-file');
  const answer =
    values['answer-file'] !== undefined ? readAnswer(values['answer-file']) : (values.answer ?? null);
  const verdict = values.verdict ?? '';
  const reviewer = values.reviewer ?? '';
  const problems = decisionProblems({ verdict, reviewer, answer });
  if (problems.length > 0) throw new UserError('USAGE', problems.join('; '));
  const at = values.at ?? now().toISOString();
  const t = Date.parse(at);
  if (Number.isNaN(t) || !/(Z|[+-]\d\d:\d\d)$/.test(at))
    throw new UserError('USAGE', `--at must be an ISO 8601 time with a zone, got ${JSON.stringify(at)}`);
  if (t > Date.parse(config.as_of))
    throw new UserError(
      'USAGE',
      `the decision time ${at} is after as_of ${config.as_of} in distill.config.json: build-evidence would quarantine it (FUTURE_TIMESTAMP). Raise as_of, or pass --at with the time the decision was made`,
    );
  const ledger = ledgerPath(config, values.ledger);
  const row = reviewRow({
    runId,
    verdict: verdict as Verdict,
    reviewer,
    at,
    answer,
    comment: values.comment ?? null,
  });
  const path = join(root, ledger);
  const already =
    existsSync(path) &&
    readFileSync(path, 'utf8')
      .split('\n')
      .some((l) => l.includes(`"review_id":"${row.review_id}"`));
  if (!already) appendLine(path, row);
  process.stdout.write(
    `${already ? 'already recorded' : 'recorded'}: ${row.decision} of ${safeText(runId)} by ${safeText(reviewer)} in ${safeText(ledger)} (${row.review_id}); rebuild with \`npm run run-all\` to score it\n`,
  );
  return 0;
}
