import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { InvariantResult } from './invariants.ts';
import { sha256 } from '../../lib/hash.ts';

/**
 * The acceptance reports: `acceptance.json` (read by audit-full and release-freeze: exactly
 * {schema_version, passed, total, invariants: [{id, name, ok, detail}], fixture_sha256,
 * code_version}) and `phase6-acceptance-report.md` for people. No timestamps: the same code and
 * fixture give the same files.
 */

/** File names of the two reports inside reports/distillation/. */
export const ACCEPTANCE_JSON = 'acceptance.json';
export const ACCEPTANCE_MD = 'phase6-acceptance-report.md';

/** The machine-readable result. */
export interface AcceptanceJson {
  schema_version: 1;
  passed: number;
  total: number;
  invariants: { id: string; name: string; ok: boolean; detail: string }[];
  fixture_sha256: string;
  code_version: string;
}

/** sha256 over every fixture file: its relative path and its own sha256, in path order. */
export function fixtureSha256(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else lines.push(`${relative(dir, p).split('\\').join('/')}\u0000${sha256(readFileSync(p))}\n`);
    }
  };
  walk(dir);
  return sha256(lines.join(''));
}

/** Pure: the acceptance.json value. */
export function acceptanceJson(
  results: readonly InvariantResult[],
  fixture: string,
  codeVersion: string,
): AcceptanceJson {
  return {
    schema_version: 1,
    passed: results.filter((r) => r.ok).length,
    total: results.length,
    invariants: results.map((r) => ({ id: r.id, name: r.name, ok: r.ok, detail: r.detail })),
    fixture_sha256: fixture,
    code_version: codeVersion,
  };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Pure: the Markdown report (every invariant: id, name, what it checks, pass / fail, detail). */
export function acceptanceMarkdown(
  results: readonly InvariantResult[],
  o: { fixtureDir: string; fixtureSha: string; codeVersion: string },
): string {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => !r.ok);
  return [
    '# Phase 6 acceptance report',
    '',
    `**${passed}/${results.length} invariants pass**${failed.length ? ` — failing: ${failed.map((r) => `${r.id} ${r.name}`).join(', ')}` : ''}.`,
    '',
    `Fixture \`${o.fixtureDir}\` (sha256 \`${o.fixtureSha}\`), code \`${o.codeVersion}\`. The whole pipeline (every phase of`,
    '`tasks/phases/registry.ts`) ran on the fixture three times in temporary folders: a first build, a second `run-all` in the same',
    'folder, and a fresh build with the sources in reverse order. What each invariant means: [docs/acceptance.md](../../docs/acceptance.md).',
    'Regenerate with `npm run acceptance` (cached by wireit until the code or the fixture changes).',
    '',
    '| id | invariant | what it checks | result | detail |',
    '| --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.id} | ${r.name} | ${cell(r.checks)} | ${r.ok ? 'pass' : '**FAIL**'} | ${cell(r.detail)} |`,
    ),
    '',
  ].join('\n');
}

/** The console verdict: one line per invariant, then `N/22 passed`. */
export function consoleLines(results: readonly InvariantResult[]): string {
  const lines = results.map((r) => (r.ok ? `✔ ${r.id} ${r.name}` : `✖ ${r.id} ${r.name}: ${r.detail}`));
  lines.push(`${results.filter((r) => r.ok).length}/${results.length} passed`);
  return lines.join('\n');
}
