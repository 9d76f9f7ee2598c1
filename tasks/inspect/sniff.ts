import { resolve } from 'node:path';
import { detectFormat, type Candidate } from '../adapters/detect.ts';
import { ADAPTERS } from '../adapters/registry.ts';
import { sampleFile } from '../adapters/format-sample.ts';
import { safeJson, safeText } from '../lib/terminal-text.ts';

/** What `distill sniff` found for one file. */
export interface SniffResult {
  file: string;
  /** lines | array | document | not-json | empty | unreadable */
  layout: string;
  /** The adapter that reads it, or null (unknown). */
  adapter: string | null;
  confidence: number | null;
  reason: string;
  /** Every adapter's fit, best first. */
  candidates: Candidate[];
}

/** Detects the format of each file (paths as given, relative to `cwd`); reads only their start. */
export async function sniffFiles(
  paths: readonly string[],
  cwd: string,
  limits: { maxLineBytes: number; maxDepth: number },
): Promise<SniffResult[]> {
  const out: SniffResult[] = [];
  for (const file of paths) {
    const sample = await sampleFile(resolve(cwd, file), limits);
    const d = detectFormat(sample, ADAPTERS);
    out.push(
      d.ok
        ? {
            file,
            layout: sample.kind,
            adapter: d.adapter,
            confidence: d.confidence,
            reason: d.reason,
            candidates: d.candidates,
          }
        : {
            file,
            layout: sample.kind,
            adapter: null,
            confidence: null,
            reason: d.detail,
            candidates: d.candidates,
          },
    );
  }
  return out;
}

/**
 * One line per file: `file: adapter (confidence 0.95): reason`, or `file: unknown: why`. File names
 * and reasons (which may quote the file) are escaped: control characters show as `\u001b`.
 */
export function formatSniff(results: readonly SniffResult[]): string {
  return results
    .map((r) =>
      safeText(
        r.adapter !== null
          ? `${r.file}: ${r.adapter} (confidence ${(r.confidence as number).toFixed(2)}): ${r.reason}`
          : `${r.file}: unknown: ${r.reason}`,
      ),
    )
    .join('\n');
}

/** The results as JSON, with every character a terminal could act on escaped (still the same JSON). */
export function formatSniffJson(results: readonly SniffResult[]): string {
  return safeJson(JSON.stringify(results, null, 2));
}
