import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { QuarantineRecord } from '../../schemas/quarantine-record.ts';
import { builtProject } from '../helpers/built.ts';

/**
 * RELIABILITY.md T12 on the bundled corpus: the fake keys and PII planted by tasks/dev/corpus/canaries.ts
 * are found in the sources, never appear in any file of exports/ or data/screened/, and every
 * source row carrying a fake key is quarantined by screen as SECRET_DETECTED with the right rule.
 */

const CANARY_SHAPES: Record<string, RegExp> = {
  'openai-api-key': /sk-proj-[A-Za-z0-9]{74}T3BlbkFJ[A-Za-z0-9]{74}/g,
  'aws-access-token': /AKIA[A-Z2-7]{16}/g,
  'github-pat': /ghp_[A-Za-z0-9]{36}/g,
  email: /[a-z]+\.[a-z]+\d{1,2}@example\.com/g,
  phone: /\+1 \(\d{3}\) 555-01\d\d/g,
};

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

test('bundled corpus: canary keys and PII never reach exports/ or data/screened/; each key row is quarantined SECRET_DETECTED', async () => {
  // every phase run once, one command each (a copy of the suite's template, test/helpers/built.ts)
  const dir = await builtProject('all', 'distill-canaries-');
  // the canaries, and the source rows (file + 0-based line) that carry each fake key
  const found = new Map<string, Set<string>>();
  const rowsWith = new Map<string, { rule: string; rows: Set<string> }>();
  for (const f of files(join(dir, 'data/_kb'))) {
    const rel = relative(dir, f).split('\\').join('/');
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const [kind, re] of Object.entries(CANARY_SHAPES)) {
          for (const m of line.matchAll(re)) {
            let s = found.get(kind);
            if (!s) found.set(kind, (s = new Set()));
            s.add(m[0]);
            if (kind === 'email' || kind === 'phone') continue;
            const entry = rowsWith.get(m[0]) ?? { rule: kind, rows: new Set<string>() };
            entry.rows.add(rel.endsWith('.json') ? rel : `${rel}:${i}`);
            rowsWith.set(m[0], entry);
          }
        }
      });
  }
  for (const kind of Object.keys(CANARY_SHAPES))
    assert.ok((found.get(kind)?.size ?? 0) >= 1, `the bundled corpus has no ${kind} canary`);
  const canaries = [...found.values()].flatMap((s) => [...s]);
  // none in any output file (quarantine and manifests included)
  const outputs = [...files(join(dir, 'exports')), ...files(join(dir, 'data/screened'))];
  assert.ok(outputs.length > 20);
  for (const f of outputs) {
    const text = readFileSync(f, 'utf8');
    for (const c of canaries)
      assert.ok(!text.includes(c), `${relative(dir, f)} contains the canary ${c.slice(0, 10)}…`);
  }
  // every row carrying a fake key is in screen's quarantine with SECRET_DETECTED:<rule>
  const q = readFileSync(join(dir, 'data/screened/_quarantine.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as QuarantineRecord);
  const secretRows = new Map(
    q
      .filter((r) => r.reason.startsWith('SECRET_DETECTED:'))
      .map((r) => [`${r.source_file}:${r.line_offset}`, r.reason]),
  );
  let checked = 0;
  for (const [canary, { rule, rows }] of rowsWith) {
    for (const row of rows) {
      assert.equal(
        secretRows.get(row),
        `SECRET_DETECTED:${rule}`,
        `${row} carries ${canary.slice(0, 8)}… but screen did not quarantine it`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 9, `only ${checked} canary rows checked`);
  for (const r of q)
    assert.ok(!canaries.some((c) => r.detail.includes(c)), 'a quarantine detail never quotes the secret');
});
