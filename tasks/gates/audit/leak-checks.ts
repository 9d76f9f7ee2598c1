import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Budget } from '../../lib/safety/budget.ts';
import { findContamination } from '../../lib/safety/decontaminate.ts';
import { loadProtected, protectedSets } from '../../lib/safety/protected-sets.ts';
import { rescanFiles, SECOND_ENGINE } from '../../lib/safety/rescan.ts';
import { newScan, scanRecord } from '../../lib/safety/secret-scan.ts';
import { redactRecord } from '../../lib/safety/redact.ts';
import type { CheckFn } from './check-list.ts';
import { Findings, plural } from './findings.ts';
import { activePhase, familyPaths, phaseManifest, readRows, TRAINING_FILES } from './rows.ts';

/**
 * What must never leak into an export: a secret (the planted canary keys of the bundled corpus
 * are secrets by these rules) or a copy of a protected eval item. Both reuse the screen phase's
 * detectors, run over the files as they are on disk now.
 */

/** The export folders of the pipeline and the files each manifest lists. */
async function exportFiles(ctx: Parameters<CheckFn>[0], f: Findings): Promise<string[]> {
  const files: string[] = [];
  for (const p of ctx.phases.filter((x) => x.outDir.startsWith('exports/'))) {
    const m = await phaseManifest(ctx.root, p.outDir);
    if (!m.ok) f.add(`${m.error}; build it with \`npm run ${p.script}\``);
    else files.push(`${p.outDir}/_manifest.json`, ...m.value.files.map((e) => e.path));
  }
  return files.sort();
}

/**
 * export-secrets: every row of every export file (JSONL rows parsed, other files as text) through
 * the screen's secret rules and its PII redaction (a row redaction would change holds raw personal
 * data), then every file through the second engine (secretlint), as the exporters did before
 * publishing; a record whose detector budget runs out fails closed.
 */
export const exportSecrets: CheckFn = async (ctx) => {
  const f = new Findings();
  const allow = new Set(ctx.config.secret_allowlist);
  const files = await exportFiles(ctx, f);
  let records = 0;
  const fix =
    'remove the row (rebuild with `npm run run-all` after fixing the source), add a rule to tasks/lib/safety/secret-rules.ts if screen missed it (docs/safety.md)';
  const scan = (value: unknown, at: string): void => {
    records++;
    const budget = new Budget();
    for (const h of scanRecord(value, newScan(budget, allow)))
      f.add(`${at}: secret (${h.rule}) at ${h.path || '(text)'} (sha256 ${h.sha256}); ${fix}`);
    // raw personal data: a row that screen's redaction would still change
    if (typeof value === 'object' && value !== null) {
      const red = redactRecord(value, budget);
      const types = Object.entries(red.counts).filter(([, k]) => k > 0);
      if (types.length > 0 || red.ids > 0)
        f.add(
          `${at}: raw personal data (${types.map(([t, k]) => `${t} ×${k}`).join(', ') || `${red.ids} id(s) carrying PII`}); screen should have replaced it: rebuild with \`npm run run-all\`, add a detector to tasks/lib/safety/ if screen missed it (docs/safety.md)`,
        );
    }
    if (budget.exhausted)
      f.add(`${at}: the secret scan ran out of budget (${budget.why}): cannot show it is clean`);
  };
  const present: { path: string; label: string }[] = [];
  for (const rel of files) {
    try {
      if (rel.endsWith('.jsonl')) {
        for await (const r of readRows(ctx.root, rel)) scan(r.ok ? r.value : '', `${rel}:${r.line}`);
      } else scan(await fsp.readFile(join(ctx.root, rel), 'utf8'), rel);
      present.push({ path: join(ctx.root, rel), label: rel });
    } catch (e) {
      f.add(
        `${rel}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); rebuild with \`npm run run-all\``,
      );
    }
  }
  for (const h of await rescanFiles(present, allow))
    f.add(`${h.file}:${h.line}: secret (${h.rule}, ${SECOND_ENGINE}) (sha256 ${h.sha256}); ${fix}`);
  return f.outcome(
    `${plural(records, 'record')} in ${plural(files.length, 'export file')} clean under the screen rules, its PII detectors and ${SECOND_ENGINE}`,
  );
};

type Row = Record<string, unknown>;

/** The texts of a training row that must not copy an eval item: non-system message texts, tool arguments, answers. */
export function trainingPieces(row: Row): string[] {
  const out: string[] = [];
  const messages = (v: unknown): void => {
    if (!Array.isArray(v)) return;
    for (const m of v as Row[]) {
      if (m['role'] === 'system') continue;
      if (typeof m['content'] === 'string' && m['content'] !== '') out.push(m['content']);
      for (const c of (m['tool_calls'] as { function?: { arguments?: unknown } }[] | undefined) ?? [])
        if (typeof c.function?.arguments === 'string') out.push(c.function.arguments);
    }
  };
  messages(row['messages']);
  messages(row['prompt']);
  for (const k of ['chosen', 'rejected', 'completion']) {
    const side = row[k] as Row | undefined;
    if (side && typeof side['content'] === 'string') out.push(side['content']);
  }
  return out;
}

/** eval-decontamination: no SFT, preference or KTO row shares a 13-gram (or a whole short item) with a protected eval item. */
export const evalDecontamination: CheckFn = async (ctx) => {
  const f = new Findings();
  const loaded = await loadProtected(ctx.root, protectedSets(ctx.config.eval_sets));
  if (loaded.index.empty)
    return f.outcome(
      'no protected items on disk (no acceptance fixture, replay tasks or eval_sets files): nothing to overlap',
    );
  let rows = 0;
  for (const [dir, file] of TRAINING_FILES) {
    const phase = activePhase(ctx, dir);
    if (!phase) continue;
    let rel = `${dir}/${file}`;
    try {
      for (const shard of await familyPaths(ctx.root, dir, file)) {
        rel = shard;
        for await (const r of readRows(ctx.root, rel)) {
          if (!r.ok) continue; // export-schema reports it
          rows++;
          const hit = findContamination(trainingPieces(r.value as Row), loaded.index);
          if (hit)
            f.add(
              `${rel}:${r.line} (${String((r.value as Row)['id'])}): ${hit.how}: ${hit.origin.at} (set ${hit.origin.set}); screen should have quarantined it EVAL_CONTAMINATION: rebuild with \`npm run run-all\``,
            );
        }
      }
    } catch (e) {
      f.add(
        `${rel}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); build it with \`npm run ${phase.script}\``,
      );
    }
  }
  return f.outcome(
    `${plural(rows, 'training row')} share nothing with ${plural(loaded.index.items, 'protected item')} in ${plural(loaded.files.length, 'file')}`,
  );
};
