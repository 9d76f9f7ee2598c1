import { z } from 'zod';
import { REPORTS_DIR } from '../../lib/receipts.ts';
import { readJson, type Loaded } from '../../run/run-reports.ts';
import type { CheckFn } from './check-list.ts';
import { Findings } from './findings.ts';

/** Where `npm run acceptance` writes its result, relative to the project root. */
export const ACCEPTANCE_FILE = `${REPORTS_DIR}/acceptance.json`;

/** The acceptance result as audit-full and release-freeze read it (extra fields are allowed). */
export const AcceptanceResult = z.object({
  schema_version: z.number().int(),
  passed: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  invariants: z.array(
    z.object({
      id: z.union([z.string(), z.number()]),
      name: z.string(),
      ok: z.boolean(),
      detail: z.string(),
    }),
  ),
  fixture_sha256: z.string(),
  code_version: z.string(),
});
export type AcceptanceResult = z.infer<typeof AcceptanceResult>;

/** Reads reports/distillation/acceptance.json. */
export function readAcceptance(root: string): Promise<Loaded<AcceptanceResult>> {
  return readJson(root, ACCEPTANCE_FILE, AcceptanceResult);
}

const RUN_IT = 'run `npm run acceptance`';

/**
 * Pure core: the problems of an acceptance result (none when it passes). `expectedTotal` pins the
 * number of invariants (release-freeze wants exactly 22); a missing file says how to produce it.
 */
export function acceptanceProblems(
  loaded: Loaded<AcceptanceResult>,
  expectedTotal: number | null = null,
): string[] {
  if (!loaded.ok)
    return [
      loaded.error.includes('cannot be read')
        ? `${ACCEPTANCE_FILE} is missing: ${RUN_IT}`
        : `${loaded.error}: ${RUN_IT}`,
    ];
  const r = loaded.value;
  const problems: string[] = [];
  const okCount = r.invariants.filter((i) => i.ok).length;
  if (r.invariants.length !== r.total)
    problems.push(
      `${ACCEPTANCE_FILE} lists ${r.invariants.length} invariants but total says ${r.total}: ${RUN_IT}`,
    );
  if (okCount !== r.passed)
    problems.push(`${ACCEPTANCE_FILE} says passed ${r.passed}, but ${okCount} invariants are ok: ${RUN_IT}`);
  if (expectedTotal !== null && r.total !== expectedTotal)
    problems.push(
      `${ACCEPTANCE_FILE} has ${r.total} invariants, expected ${expectedTotal}: the acceptance suite changed; ${RUN_IT}`,
    );
  for (const i of r.invariants.filter((x) => !x.ok))
    problems.push(`invariant ${i.id} ${i.name} fails: ${i.detail}`);
  if (r.total === 0) problems.push(`${ACCEPTANCE_FILE} has no invariants: ${RUN_IT}`);
  return problems;
}

/** acceptance: the last acceptance run's result is on disk and every invariant held. */
export const acceptance: CheckFn = async ({ root }) => {
  const f = new Findings();
  const loaded = await readAcceptance(root);
  for (const p of acceptanceProblems(loaded)) f.add(p);
  const r = loaded.ok ? loaded.value : null;
  return f.outcome(
    r
      ? `${r.passed}/${r.total} invariants pass (fixture ${r.fixture_sha256.slice(0, 12)}…, code ${r.code_version.slice(0, 12)})`
      : '',
  );
};
