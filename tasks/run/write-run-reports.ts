import { join } from 'node:path';
import { AnyAuditBaselineEntry } from '../../schemas/audit-baseline-entry.ts';
import { readBaseline } from '../gates/audit/baseline.ts';
import { metricSeries } from '../gates/audit/report.ts';
import { historyChart } from '../gates/audit/svg-chart.ts';
import { writeFileAtomic } from '../lib/fs-atomic.ts';
import { PIPELINE } from '../phases/registry.ts';
import {
  cardPath,
  datasetCard,
  phase4Report,
  phase5Report,
  PHASE4_REPORT,
  PHASE5_REPORT,
  type RunRecord,
} from './phase-reports.ts';
import { renderRunPage, RUN_PAGE } from './run-page.ts';
import { runFile } from './run-reports.ts';

/** The audit history chart from the baseline rows, or null when there is none (or it cannot be read). */
async function auditHistory(root: string): Promise<string | null> {
  try {
    const { rows } = await readBaseline<unknown>(root);
    const entries = rows.flatMap((r) => {
      const e = AnyAuditBaselineEntry.safeParse(r.entry);
      return e.success ? [e.data] : [];
    });
    if (entries.length === 0) return null;
    return historyChart(
      metricSeries(entries),
      `audit-full: tracked metrics by baseline row (1–${rows.length})`,
    );
  } catch {
    return null; // a damaged baseline is audit-full's to report; the page just goes without the chart
  }
}

/**
 * Writes what run-all leaves besides summary.json and drift.json: the dataset card of each export
 * and the run page in the run folder, and the phase 4 and phase 5 reports. Returns the page's path.
 */
export async function writeRunReports(root: string, v: RunRecord): Promise<string> {
  const runDir = `reports/distillation/${v.summary.run_id}`;
  for (const p of PIPELINE.filter((x) => x.exports)) {
    const r = v.receipts.get(p.phase);
    if (r)
      await writeFileAtomic(
        join(root, runFile(v.summary.run_id, cardPath(p.phase))),
        datasetCard(p.phase, p.outDir, r, p.unit),
      );
  }
  const page = runFile(v.summary.run_id, RUN_PAGE);
  await writeFileAtomic(join(root, page), renderRunPage(v, await auditHistory(root)));
  await writeFileAtomic(
    join(root, PHASE4_REPORT),
    phase4Report(v, runDir.replace('reports/distillation/', '')),
  );
  await writeFileAtomic(
    join(root, PHASE5_REPORT),
    phase5Report(v, runDir.replace('reports/distillation/', '')),
  );
  return page;
}
