import type { SignalBody } from '../../schemas/evidence-record.ts';
import type { Adapter, AdapterContext, AdapterOutput, EvidenceDraft } from './adapter.ts';

/**
 * SWE-bench evaluation reports (the harness `swebench.harness.run_evaluation`) → one `test_result`
 * signal per evaluated instance, for the SWE-agent run of that instance. Two shapes, one JSON
 * document each:
 * - the per-instance `report.json` (`logs/run_evaluation/<run_id>/<model>/<instance_id>/`):
 *   `{"<instance_id>": {resolved, patch_successfully_applied, tests_status: {FAIL_TO_PASS:
 *   {success, failure}, PASS_TO_PASS: {...}}}}` → passed / failed = the FAIL_TO_PASS and
 *   PASS_TO_PASS counts (a resolved instance has no failure; an unresolved one at least one; a patch
 *   that did not apply is one failure);
 * - the run summary `<model>.<run_id>.json`: `{resolved_ids, unresolved_ids, error_ids,
 *   empty_patch_ids, ...}` → resolved 1 passed, unresolved 1 failed. Harness errors (`error_ids`)
 *   and empty patches judge nothing the run did not already say: they are skipped (flag
 *   `instances_skipped`).
 * A report knows instance ids, not runs: the source's `trajectories` option (config schema) names
 * the folder of the SWE-agent run it evaluates, and each signal goes to `swe-agent:<folder>/<id>`,
 * the trace id the swe-agent adapter gives `<folder>/<id>.traj` (or `<folder>/<id>/<id>.traj`).
 */

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const ids = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
const count = (v: unknown, key: 'success' | 'failure'): number =>
  isObj(v) && Array.isArray(v[key]) ? (v[key] as unknown[]).length : 0;

/** One instance report → a test_result signal (null when it judges nothing). */
function instanceSignal(r: Record<string, unknown>): SignalBody | null {
  if (r.patch_is_None === true || r.patch_exists === false) return null;
  if (r.patch_successfully_applied === false)
    return { type: 'test_result', passed: 0, failed: 1, suite: 'swe-bench:patch_not_applied' };
  const ts = isObj(r.tests_status) ? r.tests_status : {};
  const passed = count(ts.FAIL_TO_PASS, 'success') + count(ts.PASS_TO_PASS, 'success');
  const failed = count(ts.FAIL_TO_PASS, 'failure') + count(ts.PASS_TO_PASS, 'failure');
  if (r.resolved === true)
    return { type: 'test_result', passed: Math.max(passed, 1), failed: 0, suite: 'swe-bench' };
  if (r.resolved === false)
    return { type: 'test_result', passed, failed: Math.max(failed, 1), suite: 'swe-bench' };
  return null;
}

function isSummary(row: Record<string, unknown>): boolean {
  return (
    Array.isArray(row.resolved_ids) && (Array.isArray(row.unresolved_ids) || Array.isArray(row.completed_ids))
  );
}

function isInstanceReport(row: Record<string, unknown>): boolean {
  const vals = Object.values(row);
  return (
    vals.length > 0 &&
    vals.every((v) => isObj(v) && 'resolved' in v && ('tests_status' in v || 'patch_exists' in v))
  );
}

function toEvidence(row: Record<string, unknown>, ctx: AdapterContext): AdapterOutput {
  const folder = ctx.trajectories?.replace(/\/+$/, '');
  if (folder === undefined || folder === '')
    return {
      type: 'drop',
      reason: 'SOURCE_OPTION_MISSING',
      detail:
        'a SWE-bench report names instances, not runs: give its source "adapter": "swe-bench-report" and "trajectories": the folder of the SWE-agent trajectories it evaluates',
    };
  const judged: Array<[string, SignalBody]> = [];
  let skipped = 0;
  if (isSummary(row)) {
    for (const id of ids(row.resolved_ids))
      judged.push([id, { type: 'test_result', passed: 1, failed: 0, suite: 'swe-bench' }]);
    for (const id of ids(row.unresolved_ids))
      judged.push([id, { type: 'test_result', passed: 0, failed: 1, suite: 'swe-bench' }]);
    skipped = ids(row.error_ids).length + ids(row.empty_patch_ids).length;
  } else if (isInstanceReport(row)) {
    for (const [id, r] of Object.entries(row)) {
      const s = instanceSignal(r as Record<string, unknown>);
      if (s) judged.push([id, s]);
      else skipped++;
    }
  } else {
    return {
      type: 'drop',
      reason: 'SCHEMA_MISSING_FIELD',
      detail:
        '$: neither a SWE-bench run summary (resolved_ids, unresolved_ids) nor a per-instance report ({"<instance_id>": {resolved, tests_status}})',
    };
  }
  if (judged.length === 0)
    return {
      type: 'drop',
      reason: 'NO_CONVERSATION',
      detail: `$: the report judges no instance (${skipped} skipped: harness errors or empty patches)`,
    };
  const records: EvidenceDraft[] = judged
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, signal]) => ({
      kind: 'signal',
      trace_id: `swe-agent:${folder}/${id}`,
      task_key: null,
      recorded_at: null, // the reports carry no timestamp
      flags: skipped > 0 ? ['instances_skipped'] : [],
      signal,
    }));
  return { type: 'keep', records };
}

/** SWE-bench evaluation reports → test_result signals for the SWE-agent runs they evaluate. */
export const sweBenchReport: Adapter = {
  name: 'swe-bench-report',
  description:
    'SWE-bench evaluation reports (per-instance report.json or the run summary): a test_result signal per instance, for the runs in the source\'s "trajectories" folder',
  shape: 'json-document',
  schemaVersions: [2],
  sniff(row) {
    if (isSummary(row))
      return { confidence: 1, reason: 'SWE-bench run summary (resolved_ids, unresolved_ids)' };
    if (isInstanceReport(row))
      return { confidence: 1, reason: 'SWE-bench per-instance report (resolved, tests_status)' };
    return { confidence: 0, reason: 'not a SWE-bench evaluation report' };
  },
  toEvidence,
};
