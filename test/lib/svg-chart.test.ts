import assert from 'node:assert/strict';
import { test } from 'node:test';
import { historyChart } from '../../tasks/gates/audit/svg-chart.ts';

test('historyChart draws one panel per metric with a point per baseline row, deterministically', () => {
  const series = [
    { name: 'sft_rows', values: [100, 120, 90] },
    { name: 'accepted <ratio>', values: [0.41, 0.4] },
    { name: 'empty', values: [] },
  ];
  const svg = historyChart(series, 'Audit metrics');
  assert.equal(svg, historyChart(series, 'Audit metrics'));
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
  assert.match(svg, /accepted &lt;ratio&gt;/);
  assert.match(svg, /row 3: 90/);
  assert.match(svg, /row 2: 0\.4</);
});
