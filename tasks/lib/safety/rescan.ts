import { lintSource } from '@secretlint/core';
import { fileLines } from '../jsonl-read.ts';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { sha256 } from '../hash.ts';
import { Budget } from './budget.ts';
import { redactRecord } from './redact.ts';
import { newScan, scanRecord } from './secret-scan.ts';

/**
 * The second, independent secret engine: secretlint's recommended preset
 * (@secretlint/core 11 + @secretlint/secretlint-rule-preset-recommend 11) over the bytes of every
 * file an export is about to publish. The primary engine (tasks/lib/safety/) screens the records
 * before export; this rescans what was actually written, so a secret that got past the first
 * engine (or was put there by an exporter) fails the phase and nothing is published. Every JSONL
 * row is also re-checked by the primary engine itself, as written: its secret rules (over the
 * decoded views) and its PII redaction (a row that redaction would still change holds raw
 * personal data), so an exporter that rebuilt text, or a format that decoded an escape, cannot
 * bring back what screen removed.
 */

/** The engine's name and version, for messages and the manifest. */
export const SECOND_ENGINE = '@secretlint/secretlint-rule-preset-recommend@11';

/** Lines are scanned in chunks of about this many characters (secretlint holds a chunk in memory). */
const CHUNK_CHARS = 1 << 20;

/** One second-engine hit: where it is and which rule, never the secret. */
export interface RescanHit {
  file: string;
  /** 1-based line. */
  line: number;
  rule: string;
  sha256: string;
}

/**
 * secretlint 11 profiles every lint into one process-wide profiler whether or not anyone asks
 * (`--profile` only prints it): each lint adds performance marks that are kept for the life of
 * the process, and each new mark is searched for against all earlier ones, so the n-th file a
 * process lints costs O(n) (secretlint/secretlint#1633 and #1653: measured here, the audit's
 * export rescan took 4.5 s, then 9.5, 22 and 26 s in the second to fourth audit of one process).
 * The fix (secretlint PR #1673: mark() a no-op unless profiling is enabled) shipped in 13.0.5,
 * which needs Node 22; until then mark() is made the same no-op here. Nothing reads the profile.
 */
secretLintProfiler.mark = () => undefined;

const CONFIG = {
  rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended, options: {} }],
};

async function lintChunk(
  content: string,
  label: string,
  /** The file line number of each line of `content` (not consecutive when known lines were left out). */
  lines: readonly number[],
  allow: ReadonlySet<string>,
  out: RescanHit[],
): Promise<void> {
  const res = await lintSource({
    source: { content, filePath: label, ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: true },
  });
  for (const m of res.messages) {
    const [start, end] = m.range;
    const match = content.slice(start, end);
    const hash = sha256(match);
    if (allow.has(hash)) continue;
    let k = 0;
    for (let i = content.indexOf('\n'); i !== -1 && i < start; i = content.indexOf('\n', i + 1)) k++;
    out.push({ file: label, line: lines[k] ?? lines[lines.length - 1] ?? 1, rule: m.ruleId, sha256: hash });
  }
}

/** The primary engine over one JSONL row: secrets (`screen:<rule>`) and raw PII (`pii:<TYPES>`). */
function primaryCheck(
  text: string,
  label: string,
  line: number,
  allow: ReadonlySet<string>,
  out: RescanHit[],
): void {
  let row: unknown;
  try {
    row = JSON.parse(text);
  } catch {
    return; // the export's own checks report a broken row
  }
  const budget = new Budget();
  for (const h of scanRecord(row, newScan(budget, allow)))
    out.push({ file: label, line, rule: `screen:${h.rule}`, sha256: h.sha256 });
  const red = redactRecord(row, budget);
  if (red.spans > 0 || red.ids > 0) {
    const types = Object.entries(red.counts)
      .filter(([, n]) => n > 0)
      .map(([t]) => t);
    out.push({ file: label, line, rule: `pii:${types.join('+') || 'ID'}`, sha256: sha256(text) });
  }
  if (budget.exhausted)
    out.push({ file: label, line, rule: 'screen:DETECTOR_TIMEOUT', sha256: sha256(text) });
}

/**
 * Rescans files (absolute path → label used in messages) line-chunk by line-chunk with the second
 * engine. Returns the hits whose matched text's sha256 is not allowlisted. A file's `known` lines
 * (sha256 of the line) are left out: lines both engines already passed, byte for byte, in the
 * published version of the same file (an export shard written again with a few rows changed).
 * A file given with the `sha256` of its bytes (as written) that is the same as a file scanned
 * whole earlier in the same call (two formats that write the same rows: `trl/` and `hf/`) is not
 * read again: both engines' outcome over the same bytes is the same, so the earlier file's hits
 * are reported for it too, under its own label. Only a file the primary engine read as it would
 * read this one (both .jsonl, or neither) counts.
 */
export async function rescanFiles(
  files: readonly { path: string; label: string; sha256?: string; known?: ReadonlySet<string> }[],
  allow: ReadonlySet<string>,
): Promise<RescanHit[]> {
  const hits: RescanHit[] = [];
  /** sha256 of a file scanned whole → its hits (relabelled for a later file with the same bytes). */
  const scanned = new Map<string, RescanHit[]>();
  for (const f of files) {
    // the primary engine reads .jsonl files alone: the same bytes under another name were not checked by it
    const primary = f.path.endsWith('.jsonl');
    const key = f.sha256 === undefined ? undefined : `${primary ? 'jsonl' : 'other'}:${f.sha256}`;
    const same = key === undefined ? undefined : scanned.get(key);
    if (same !== undefined) {
      for (const h of same) hits.push({ ...h, file: f.label });
      continue;
    }
    const first = hits.length;
    const rl = fileLines(f.path);
    let chunk: string[] = [];
    let nums: number[] = [];
    let chars = 0;
    let line = 0;
    for await (const text of rl) {
      line++;
      if (f.known && text !== '' && f.known.has(sha256(text))) continue;
      if (primary && text !== '') primaryCheck(text, f.label, line, allow, hits);
      chunk.push(text);
      nums.push(line);
      chars += text.length + 1;
      if (chars >= CHUNK_CHARS) {
        await lintChunk(chunk.join('\n'), f.label, nums, allow, hits);
        chunk = [];
        nums = [];
        chars = 0;
      }
    }
    if (chunk.length > 0) await lintChunk(chunk.join('\n'), f.label, nums, allow, hits);
    if (key !== undefined && f.known === undefined) scanned.set(key, hits.slice(first));
  }
  return hits;
}

/** The error text for second-engine hits (rule and place, never the secret). */
export function rescanMessage(dir: string, hits: readonly RescanHit[]): string {
  const shown = hits.slice(0, 10).map((h) => `  ${h.file}:${h.line}  ${h.rule}  (sha256 ${h.sha256})`);
  return [
    `pre-publish rescan (${SECOND_ENGINE} and the screen detectors) found ${hits.length} secret${hits.length === 1 ? '' : 's'} or raw personal data in the staged ${dir}/; nothing was published:`,
    ...shown,
    ...(hits.length > 10 ? [`  … and ${hits.length - 10} more`] : []),
    'The screen phase should have quarantined these rows: add a rule for this shape to tasks/lib/safety/secret-rules.ts and rerun `npm run screen`, ' +
      'or, for a known fake in a test fixture, add the full sha256 of the matched text to secret_allowlist in distill.config.json (docs/safety.md).',
  ].join('\n');
}
