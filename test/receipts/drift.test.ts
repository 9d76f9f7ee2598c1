import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  changedMetrics,
  computeDrift,
  DRIFT_THRESHOLDS,
  metricSeverity,
  movedMetrics,
} from '../../tasks/run/drift.ts';

test('thresholds are warn above 20 % and alert above 50 %', () => {
  assert.deepEqual(DRIFT_THRESHOLDS, { warn_pct: 20, alert_pct: 50 });
});

test('metricSeverity: exactly at a threshold stays below it, one past it crosses', () => {
  const cases: [number, number, string][] = [
    [100, 100, 'ok'],
    [100, 120, 'ok'], // exactly +20 %
    [100, 121, 'warn'],
    [100, 80, 'ok'], // exactly -20 %
    [100, 79, 'warn'],
    [100, 150, 'warn'], // exactly +50 %
    [100, 151, 'alert'],
    [100, 50, 'warn'], // exactly -50 %
    [100, 49, 'alert'],
    [5, 6, 'ok'], // 20 %, although (6 - 5) / 5 * 100 is 20.000000000000004 in floating point
    [5, 4, 'ok'],
    [0, 0, 'ok'],
    [0, 1, 'alert'], // from zero
    [7, 0, 'alert'], // to zero
    [31.69, 32.57, 'ok'],
  ];
  assert.deepEqual(
    cases.map(([p, c]) => [p, c, metricSeverity(p, c)]),
    cases,
  );
});

test('metricSeverity honours other thresholds', () => {
  assert.equal(metricSeverity(100, 111, { warn_pct: 10, alert_pct: 25 }), 'warn');
  assert.equal(metricSeverity(100, 126, { warn_pct: 10, alert_pct: 25 }), 'alert');
});

test('computeDrift: exact deltas and severities; a metric missing on one side counts as 0', () => {
  const report = computeDrift(
    'run-2',
    { a: 121, b: 10, mix: 32.57, new: 2 },
    { run_id: 'run-1', metrics: { a: 100, b: 10, mix: 31.69, gone: 3 } },
  );
  assert.deepEqual(report, {
    schema_version: 1,
    run_id: 'run-2',
    previous_run_id: 'run-1',
    severity: 'alert',
    thresholds: { warn_pct: 20, alert_pct: 50 },
    metrics: [
      { name: 'a', previous: 100, current: 121, delta: 21, delta_pct: 21, severity: 'warn' },
      { name: 'b', previous: 10, current: 10, delta: 0, delta_pct: 0, severity: 'ok' },
      { name: 'gone', previous: 3, current: 0, delta: -3, delta_pct: -100, severity: 'alert' },
      { name: 'mix', previous: 31.69, current: 32.57, delta: 0.88, delta_pct: 2.78, severity: 'ok' },
      { name: 'new', previous: 0, current: 2, delta: 2, delta_pct: null, severity: 'alert' },
    ],
  });
});

test('computeDrift: the worst metric decides; warn when nothing is past alert', () => {
  assert.equal(
    computeDrift('r2', { a: 121, b: 10 }, { run_id: 'r1', metrics: { a: 100, b: 10 } }).severity,
    'warn',
  );
  assert.equal(
    computeDrift('r2', { a: 120, b: 9 }, { run_id: 'r1', metrics: { a: 100, b: 10 } }).severity,
    'ok',
  );
  assert.equal(computeDrift('r2', { a: 0, b: 0 }, { run_id: 'r1', metrics: { a: 0, b: 0 } }).severity, 'ok');
});

test('computeDrift: a first run has nothing to compare and is ok', () => {
  assert.deepEqual(computeDrift('r1', { b: 0, a: 5 }, null), {
    schema_version: 1,
    run_id: 'r1',
    previous_run_id: null,
    severity: 'ok',
    thresholds: { warn_pct: 20, alert_pct: 50 },
    metrics: [
      { name: 'a', previous: null, current: 5, delta: null, delta_pct: null, severity: 'ok' },
      { name: 'b', previous: null, current: 0, delta: null, delta_pct: null, severity: 'ok' },
    ],
  });
});

test('changedMetrics lists every change worst first, movedMetrics only those past a threshold', () => {
  const report = computeDrift(
    'r2',
    { a: 103, b: 160, c: 1, d: 10, e: 125, f: 90 },
    { run_id: 'r1', metrics: { a: 100, b: 100, c: 0, d: 10, e: 100, f: 100 } },
  );
  assert.deepEqual(
    changedMetrics(report).map((m) => `${m.severity} ${m.name}`),
    ['alert c', 'alert b', 'warn e', 'ok f', 'ok a'],
  );
  assert.deepEqual(
    movedMetrics(report).map((m) => m.name),
    ['b', 'c', 'e'],
  );
});
