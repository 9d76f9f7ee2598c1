import { CATEGORIES } from '../../schemas/category.ts';
import { changedMetrics } from './drift.ts';
import { cardPath, type RunRecord } from './phase-reports.ts';
import { EXPORT_UNITS } from './report.ts';
import { n } from '../lib/log.ts';
import { PIPELINE } from '../phases/registry.ts';

/**
 * `reports/distillation/<run_id>/index.html`: one self-contained page per run-all (inline CSS and
 * SVG, no script, no network): the funnel as bars, what each phase quarantined and excluded, the
 * category mix, drift against the previous run, the audit history chart and links to each
 * export's dataset card. Pure: HTML from the run record and the audit chart's SVG.
 */

/** The page's file name inside its run folder. */
export const RUN_PAGE = 'index.html';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Colours of the categories (the same in the mix bar and its legend). */
const CATEGORY_COLOURS: Record<string, string> = {
  accepted: '#16a34a',
  partially_accepted: '#84cc16',
  rejected: '#dc2626',
  needs_human_review: '#f59e0b',
};

/** A horizontal bar chart: one labelled bar per item, scaled to the largest value. */
export function barChart(
  items: readonly { label: string; value: number; colour: string }[],
  title: string,
): string {
  const W = 720;
  const row = 26;
  const left = 250;
  const H = 30 + row * items.length;
  const max = Math.max(1, ...items.map((i) => i.value));
  const bars = items.map((it, i) => {
    const y = 24 + i * row;
    const w = Math.max(1, Math.round(((W - left - 90) * it.value) / max));
    return [
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(it.label)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${w}" height="${row - 8}" fill="${it.colour}"><title>${esc(it.label)}: ${n(it.value)}</title></rect>`,
      `<text x="${left + w + 6}" y="${y + 15}">${n(it.value)}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12"><text x="0" y="14" font-weight="bold">${esc(title)}</text>${bars.join('')}</svg>`;
}

/** The category mix as one stacked bar with a legend. */
export function mixChart(byCategory: Readonly<Record<string, number>>): string {
  const W = 720;
  const total = Object.values(byCategory).reduce((s, v) => s + v, 0);
  let x = 0;
  let lx = 0; // legend entries side by side, each as wide as its text (about 6.5 px a character at 12 px)
  const parts: string[] = [];
  const legend: string[] = [];
  CATEGORIES.forEach((c) => {
    const v = byCategory[c] ?? 0;
    const w = total === 0 ? 0 : (W * v) / total;
    const pct = total === 0 ? 0 : Math.round((1000 * v) / total) / 10;
    const colour = CATEGORY_COLOURS[c] ?? '#64748b';
    parts.push(
      `<rect x="${x.toFixed(1)}" y="22" width="${w.toFixed(1)}" height="26" fill="${colour}"><title>${c}: ${n(v)} (${pct} %)</title></rect>`,
    );
    const label = `${c.replace(/_/g, ' ')} ${n(v)} (${pct} %)`;
    legend.push(
      `<rect x="${lx}" y="58" width="12" height="12" fill="${colour}"/><text x="${lx + 16}" y="69">${esc(label)}</text>`,
    );
    lx += Math.round(16 + label.length * 6.5 + 14);
    x += w;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="category mix" width="${W}" height="78" viewBox="0 0 ${W} 78" font-family="sans-serif" font-size="12"><text x="0" y="14" font-weight="bold">scored runs by category (${n(total)} runs)</text>${parts.join('')}${legend.join('')}</svg>`;
}

/** The funnel bars: source rows, evidence records, scored runs, each export's rows, and what was left out. */
function funnelItems(f: RunRecord['summary']['funnel']): { label: string; value: number; colour: string }[] {
  return [
    { label: 'source rows', value: f.source_rows, colour: '#334155' },
    { label: 'evidence records', value: f.evidence, colour: '#2563eb' },
    { label: 'scored runs', value: f.runs, colour: '#7c3aed' },
    ...Object.entries(f.exports).map(([k, v]) => ({
      label: `export ${k} (${EXPORT_UNITS[k] ?? 'rows'})`,
      value: v,
      colour: '#0891b2',
    })),
    ...(f.left_out
      ? [
          { label: 'quarantined, all phases (bad)', value: f.left_out.quarantined, colour: '#dc2626' },
          { label: 'excluded, all phases (policy)', value: f.left_out.excluded, colour: '#94a3b8' },
        ]
      : []),
  ];
}

/** The page of one run. `auditChart` is the audit history SVG, or null when no audit has run. */
export function renderRunPage(v: RunRecord, auditChart: string | null): string {
  const s = v.summary;
  const reasonRows = PIPELINE.flatMap((p) => {
    const r = v.receipts.get(p.phase);
    if (!r) return [];
    const rows = [
      ...Object.entries(r.counts.by_reason).map(([k, x]) => ['quarantined', k, x] as const),
      ...Object.entries(r.counts.excluded_by_reason ?? {}).map(([k, x]) => ['excluded', k, x] as const),
    ].sort((a, b) => b[2] - a[2] || (a[1] < b[1] ? -1 : 1));
    return rows.map(
      ([kind, reason, x]) =>
        `<tr class="${kind}"><td>${esc(p.phase)}</td><td>${kind}</td><td><code>${esc(reason)}</code></td><td class="num">${n(x)}</td></tr>`,
    );
  });
  const phaseRows = s.phases.map((p) => {
    const r = v.receipts.get(p.phase);
    const unit = PIPELINE.find((x) => x.phase === p.phase)?.unit ?? 'rows';
    const c = r?.counts;
    return `<tr><td>${esc(p.phase)}</td><td>${esc(p.status)}</td><td class="num">${c ? `${n(c.in)} ${esc(unit)}` : '–'}</td><td class="num">${c ? n(c.out) : '–'}</td><td class="num">${c ? n(c.quarantined) : '–'}</td><td class="num">${c ? n(c.excluded ?? 0) : '–'}</td></tr>`;
  });
  const cards = PIPELINE.filter((p) => p.exports && v.receipts.get(p.phase)).map(
    (p) =>
      `<li><a href="${cardPath(p.phase)}">${esc(p.phase)}</a> <span class="muted">(${esc(p.outDir)}/)</span></li>`,
  );
  const drift = v.drift;
  const changed = drift ? changedMetrics(drift) : [];
  const driftBody =
    !drift || drift.previous_run_id === null
      ? '<p>First run: nothing to compare.</p>'
      : changed.length === 0
        ? `<p>No metric changed since run <code>${esc(drift.previous_run_id)}</code>.</p>`
        : `<p>Against run <code>${esc(drift.previous_run_id)}</code>: ${n(changed.length)} of ${n(drift.metrics.length)} metrics changed (warn &gt; ${drift.thresholds.warn_pct} %, alert &gt; ${drift.thresholds.alert_pct} % or to/from zero).</p><table><tr><th>severity</th><th>metric</th><th class="num">previous</th><th class="num">now</th><th class="num">change</th></tr>${changed
            .map(
              (m) =>
                `<tr class="${m.severity}"><td>${m.severity}</td><td><code>${esc(m.name)}</code></td><td class="num">${n(m.previous ?? 0)}</td><td class="num">${n(m.current)}</td><td class="num">${m.delta_pct === null ? 'from 0' : `${m.delta_pct > 0 ? '+' : ''}${m.delta_pct} %`}</td></tr>`,
            )
            .join('')}</table>`;
  const took = ((Date.parse(s.finished_at) - Date.parse(s.started_at)) / 1000).toFixed(1);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>distill run ${esc(s.run_id)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #0f172a; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; border-bottom: 1px solid #e2e8f0; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { padding: .2rem .6rem; border-bottom: 1px solid #e2e8f0; text-align: left; }
.num { text-align: right; font-variant-numeric: tabular-nums; } .muted { color: #64748b; }
.ok { color: #15803d; } .failed, .alert { color: #b91c1c; } .warn { color: #b45309; } tr.excluded { color: #475569; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>distill run <code>${esc(s.run_id)}</code>: <span class="${s.ok ? 'ok' : 'failed'}">${s.ok ? 'ok' : 'FAILED'}</span></h1>
<p class="muted">code <code>${esc(s.code_version.slice(0, 12))}</code> · started ${esc(s.started_at)} · took ${took} s · drift ${esc(s.drift_severity)} · <a href="summary.json">summary.json</a> · <a href="drift.json">drift.json</a></p>
${s.errors.length ? `<ul class="failed">${s.errors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>` : ''}
<h2>Funnel</h2>
<figure id="funnel">${barChart(funnelItems(s.funnel), 'from source rows to export rows')}</figure>
<p class="muted">A source row can give several evidence records; export rows are RAG chunks, SFT rows, preference pairs and KTO rows. Quarantined rows are bad; excluded rows were left out by policy (e.g. a category an export does not take).</p>
<h2>Phases</h2>
<table><tr><th>phase</th><th>status</th><th class="num">in</th><th class="num">kept</th><th class="num">quarantined</th><th class="num">excluded</th></tr>${phaseRows.join('')}</table>
<h2>Category mix</h2>
<figure id="mix">${mixChart(s.funnel.runs_by_category)}</figure>
<h2>Quarantine and exclusion reasons</h2>
${reasonRows.length ? `<table><tr><th>phase</th><th>kind</th><th>reason</th><th class="num">rows</th></tr>${reasonRows.join('')}</table>` : '<p>Nothing was left out.</p>'}
<h2>Drift against the previous run</h2>
${driftBody}
<h2>Audit history</h2>
${auditChart ? `<figure id="audit">${auditChart}</figure>` : '<p>No audit has run yet: <code>npm run audit-full</code> appends the first baseline row.</p>'}
<h2>Dataset cards</h2>
${cards.length ? `<ul>${cards.join('')}</ul>` : '<p>No export in this run.</p>'}
</body>
</html>
`;
}
