import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { historyChart } from '../../tasks/gates/audit/svg-chart.ts';
import { computeDrift } from '../../tasks/run/drift.ts';
import { datasetCard, phase4Report, phase5Report, type RunRecord } from '../../tasks/run/phase-reports.ts';
import { renderRunPage } from '../../tasks/run/run-page.ts';
import { buildSummary, metricsOf, type PhaseOutcome } from '../../tasks/run/summary.ts';
import { chain, phaseOf } from './fixture.ts';

/** A run record of the fixture chain (build-evidence → score → export-sft), drift against an earlier run. */
function record(): RunRecord {
  const c = chain();
  const outcomes: PhaseOutcome[] = [
    { phase: phaseOf('build-evidence'), status: 'fresh', receiptPath: 'x', receipt: c.evidence, error: null },
    { phase: phaseOf('score'), status: 'ran', receiptPath: 'y', receipt: c.score, error: null },
    { phase: phaseOf('export-sft'), status: 'ran', receiptPath: 'z', receipt: c.sft, error: null },
  ];
  const metrics = metricsOf(outcomes);
  const drift = computeDrift('r2', metrics, { run_id: 'r1', metrics: { ...metrics, p4_sft_rows: 4 } });
  const summary = buildSummary({
    runId: 'r2<script>',
    startedAt: '2026-11-27T10:00:00.000Z',
    finishedAt: '2026-11-27T10:00:03.000Z',
    codeVersion: 'abc',
    outcomes,
    metrics,
    driftSeverity: drift.severity,
    errors: [],
  });
  const receipts = new Map(outcomes.map((o) => [o.phase.phase, o.receipt]));
  return { summary, drift, receipts, problems: [] };
}

const AUDIT = historyChart(
  [
    { name: 'p4_sft_rows', values: [100, 120, 90] },
    { name: 'p3_accepted', values: [50, 55, 60] },
  ],
  'audit-full: tracked metrics by baseline row (1–3)',
);

test('the run page holds the funnel, reasons by kind, the mix, drift, the audit chart and the card links, escaped, with nothing to fetch', () => {
  const html = renderRunPage(record(), AUDIT);
  assert.match(html, /^<!doctype html>/);
  assert.ok(html.includes('distill run <code>r2&lt;script&gt;</code>'), 'text is escaped');
  assert.ok(
    !/<script|src=|href="https?:|@import|url\(/.test(html),
    'self-contained: no script, no fetched resource',
  );
  assert.match(html, /<figure id="funnel"><svg [^>]*aria-label="from source rows to export rows"/);
  assert.match(html, /<title>source rows: 10<\/title>/);
  assert.match(html, /<title>export sft \(rows\): 2<\/title>/);
  assert.match(html, /<title>excluded, all phases \(policy\): 2<\/title>/);
  assert.match(
    html,
    /<tr class="excluded"><td>export-sft<\/td><td>excluded<\/td><td><code>CATEGORY_EXCLUDED<\/code><\/td><td class="num">2<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<tr class="quarantined"><td>build-evidence<\/td><td>quarantined<\/td><td><code>JSON_PARSE<\/code><\/td>/,
  );
  assert.match(html, /<title>accepted: 2 \(50 %\)<\/title>/);
  assert.match(
    html,
    /<tr class="warn"><td>warn<\/td><td><code>p4_sft_rows<\/code><\/td><td class="num">4<\/td><td class="num">2<\/td><td class="num">-50 %<\/td><\/tr>/,
  );
  assert.ok(html.includes(`<figure id="audit">${AUDIT}</figure>`));
  assert.match(html, /<li><a href="cards\/export-sft\.md">export-sft<\/a>/);
  assert.match(renderRunPage(record(), null), /No audit has run yet/);
});

test('dataset card and the phase 4 / phase 5 reports count quarantined and excluded rows apart', () => {
  const v = record();
  const card = datasetCard('export-sft', 'exports/sft', v.receipts.get('export-sft')!, 'screened runs');
  assert.match(card, /^# Dataset card: export-sft\n/);
  assert.ok(card.includes('4 screened runs in → 2 kept, 0 quarantined (bad), 2 excluded by policy.'));
  assert.ok(card.includes('| excluded | `CATEGORY_EXCLUDED` | 2 |'));
  const p4 = phase4Report(v, 'r2');
  assert.ok(p4.includes('| [export-sft](r2/cards/export-sft.md) | 4 screened runs | 2 | 0 | 2 |'), p4);
  const p5 = phase5Report(v, 'r2');
  assert.match(p5, /^# Phase 5: receipts, run summary and drift\n/);
  assert.ok(p5.includes('  left out over all phases: 3 rows quarantined (bad), 2 excluded by policy'));
});

const CHROMIUM = '/usr/bin/chromium';

test('the run page renders in headless Chromium: figures drawn, no console error, no network request', async (t) => {
  if (!existsSync(CHROMIUM))
    return t.skip(`no browser at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'distill-page-'));
  const page = join(dir, 'index.html');
  writeFileSync(page, renderRunPage(record(), AUDIT));
  // a fresh profile per run (--user-data-dir, which playwright takes as this argument)
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const p = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    p.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await p.goto(pathToFileURL(page).href, { waitUntil: 'load' });
    // evaluated in the page (a string: this project's TypeScript has no DOM types)
    const boxes = (await p.evaluate(`['funnel', 'mix', 'audit'].map((id) => {
      const svg = document.querySelector('#' + id + ' svg');
      const r = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      return { id, w: r.width, h: r.height, marks: svg ? svg.querySelectorAll('rect, polyline, circle').length : 0 };
    })`)) as { id: string; w: number; h: number; marks: number }[];
    for (const b of boxes) {
      assert.ok(b.w > 300 && b.h > 50, `${b.id} is drawn (${b.w}×${b.h})`);
      assert.ok(b.marks >= 3, `${b.id} has marks`);
    }
    const shot = join(dir, 'run-page.png');
    await p.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(png.length > 20_000, `a screenshot with content (${png.length} bytes)`);
    assert.deepEqual(problems, [], 'no console error or warning');
    assert.deepEqual(requests, [], 'no network request');
  } finally {
    await context.close();
  }
});
