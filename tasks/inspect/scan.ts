import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { n } from '../lib/log.ts';
import { UserError } from '../lib/result.ts';
import { Budget } from '../lib/safety/budget.ts';
import { detectPii, PII_TYPES } from '../lib/safety/pii.ts';
import { SECRET_RULES, SECRET_RULES_VERSION } from '../lib/safety/secret-rules.ts';
import { newScan, scanRecord } from '../lib/safety/secret-scan.ts';

/**
 * `distill scan <file>...`: runs the screen phase's detectors over any JSON, JSONL or .traj files
 * and counts hits per rule and per PII type with the field paths they were found at (never the
 * matched text), to measure false positives on real traces and to tune the rules.
 */

/** Hits of one rule or PII type. */
export interface RuleCount {
  hits: number;
  records: number;
  /** Field path with array indexes generalised (`messages[*].content`) → hits. */
  paths: Record<string, number>;
}

/** The result of a scan. */
export interface ScanReport {
  rules_version: string;
  files: string[];
  records: number;
  chars: number;
  unparsed: number;
  timeouts: number;
  secrets: Record<string, RuleCount>;
  pii: Record<string, RuleCount>;
}

/** A path with array indexes and base64 offsets generalised, for counting. */
export function generalisePath(p: string): string {
  return p.replace(/\[\d+\]/g, '[*]').replace(/~base64@\d+/g, '~base64');
}

function emptyCounts(ids: readonly string[]): Record<string, RuleCount> {
  return Object.fromEntries(ids.map((id) => [id, { hits: 0, records: 0, paths: {} }]));
}

function add(c: RuleCount, path: string): void {
  c.hits++;
  const g = generalisePath(path);
  c.paths[g] = (c.paths[g] ?? 0) + 1;
}

/** The records of a file: JSONL lines, the elements of a top-level JSON array, or the one JSON document. */
function recordsOf(file: string, text: string): { label: string; value: unknown; parsed: boolean }[] {
  const parse = (t: string): { value: unknown; parsed: boolean } => {
    try {
      return { value: JSON.parse(t), parsed: true };
    } catch {
      return { value: t, parsed: false };
    }
  };
  if (file.endsWith('.jsonl')) {
    return text
      .split('\n')
      .flatMap((line, i) =>
        line.trim() === '' ? [] : [{ label: `${basename(file)}:${i + 1}`, ...parse(line) }],
      );
  }
  const doc = parse(text);
  if (doc.parsed && Array.isArray(doc.value))
    return doc.value.map((v, i) => ({ label: `${basename(file)}[${i}]`, value: v, parsed: true }));
  return [{ label: basename(file), ...doc }];
}

function walkStrings(v: unknown, path: string, visit: (s: string, path: string) => void): void {
  if (typeof v === 'string') visit(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, `${path}[${i}]`, visit));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) walkStrings(x, path === '' ? k : `${path}.${k}`, visit);
}

/** Scans files with the secret rules and the PII detectors. */
export async function scanFiles(
  files: readonly string[],
  allow: ReadonlySet<string> = new Set(),
): Promise<ScanReport> {
  if (files.length === 0)
    throw new UserError(
      'scan takes one or more JSON / JSONL / .traj files, e.g. `distill scan traces.jsonl`',
    );
  const report: ScanReport = {
    rules_version: SECRET_RULES_VERSION,
    files: [...files],
    records: 0,
    chars: 0,
    unparsed: 0,
    timeouts: 0,
    secrets: emptyCounts(SECRET_RULES.map((r) => r.id)),
    pii: emptyCounts(PII_TYPES),
  };
  for (const file of files) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      throw new UserError(
        `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    report.chars += text.length;
    for (const rec of recordsOf(file, text)) {
      report.records++;
      if (!rec.parsed) report.unparsed++;
      const budget = new Budget();
      const hits = scanRecord(rec.value, newScan(budget, allow));
      const rulesHit = new Set<string>();
      for (const h of hits) {
        add(report.secrets[h.rule] as RuleCount, h.path);
        rulesHit.add(h.rule);
      }
      for (const r of rulesHit) (report.secrets[r] as RuleCount).records++;
      const typesHit = new Set<string>();
      walkStrings(rec.value, '', (s, path) => {
        for (const sp of detectPii(s, budget, path)) {
          add(report.pii[sp.type] as RuleCount, path);
          typesHit.add(sp.type);
        }
      });
      for (const t of typesHit) (report.pii[t] as RuleCount).records++;
      if (budget.exhausted) report.timeouts++;
    }
  }
  return report;
}

function table(counts: Record<string, RuleCount>, width: number): string[] {
  return Object.entries(counts).map(([id, c]) => {
    const top = Object.entries(c.paths)
      .sort(([pa, a], [pb, b]) => b - a || (pa < pb ? -1 : 1))
      .slice(0, 4)
      .map(([p, k]) => `${p || '(root)'} ×${k}`);
    return `  ${id.padEnd(width)} ${n(c.hits).padStart(7)} ${n(c.records).padStart(8)}  ${top.join(', ')}`;
  });
}

/** The human-readable report. */
export function formatScan(r: ScanReport): string {
  const width = Math.max(...[...Object.keys(r.secrets), ...Object.keys(r.pii)].map((k) => k.length));
  const secretHits = Object.values(r.secrets).reduce((s, c) => s + c.hits, 0);
  const head = `  ${'rule'.padEnd(width)} ${'hits'.padStart(7)} ${'records'.padStart(8)}  field paths (top 4)`;
  return [
    `scanned ${r.files.length} file${r.files.length === 1 ? '' : 's'}, ${n(r.records)} records, ${n(r.chars)} characters (secret rules ${r.rules_version})${r.unparsed ? `; ${n(r.unparsed)} records were not JSON and were scanned as text` : ''}`,
    `secrets: ${n(secretHits)} hit${secretHits === 1 ? '' : 's'} (screen would quarantine the records)`,
    head,
    ...table(Object.fromEntries(Object.entries(r.secrets).filter(([, c]) => c.hits > 0)), width),
    `  (${n(Object.values(r.secrets).filter((c) => c.hits === 0).length)} other rules: no hit)`,
    'PII (screen would replace it with <TYPE> placeholders):',
    head,
    ...table(r.pii, width),
    r.timeouts
      ? `✖ the detector budget ran out on ${n(r.timeouts)} records (screen would quarantine them DETECTOR_TIMEOUT)`
      : 'detector budget: never ran out',
  ].join('\n');
}
