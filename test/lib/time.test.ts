import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamp } from '../../tasks/phases/build-evidence/time.ts';

test('RFC 3339 with Z is normalised to toISOString form with milliseconds', () => {
  assert.deepEqual(parseTimestamp('2024-02-29T12:34:56Z'), {
    ok: true,
    iso: '2024-02-29T12:34:56.000Z',
    ms: Date.UTC(2024, 1, 29, 12, 34, 56),
  });
});

test('lowercase t/z and a space separator are accepted (RFC 3339 §5.6 note)', () => {
  assert.deepEqual(parseTimestamp('2024-01-01t00:00:00z'), {
    ok: true,
    iso: '2024-01-01T00:00:00.000Z',
    ms: 1704067200000,
  });
  assert.deepEqual(parseTimestamp('2024-01-01 00:00:00Z'), {
    ok: true,
    iso: '2024-01-01T00:00:00.000Z',
    ms: 1704067200000,
  });
});

test('positive and negative offsets are converted to UTC', () => {
  assert.deepEqual(parseTimestamp('2024-06-01T10:00:00+02:00'), {
    ok: true,
    iso: '2024-06-01T08:00:00.000Z',
    ms: Date.UTC(2024, 5, 1, 8),
  });
  assert.deepEqual(parseTimestamp('2024-01-01T00:00:00.123456789-05:30'), {
    ok: true,
    iso: '2024-01-01T05:30:00.123Z',
    ms: 1704087000123,
  });
  // an offset can move the date across a year boundary
  assert.deepEqual(parseTimestamp('2023-12-31T23:30:00-01:00'), {
    ok: true,
    iso: '2024-01-01T00:30:00.000Z',
    ms: Date.UTC(2024, 0, 1, 0, 30),
  });
});

test('fractional seconds are truncated to milliseconds, not rounded', () => {
  const r = parseTimestamp('2024-01-01T00:00:00.9999Z');
  assert.deepEqual(r, { ok: true, iso: '2024-01-01T00:00:00.999Z', ms: 1704067200999 });
  assert.deepEqual(parseTimestamp('2024-01-01T00:00:00.5Z'), {
    ok: true,
    iso: '2024-01-01T00:00:00.500Z',
    ms: 1704067200500,
  });
});

test('2024-02-30 does not roll over to March', () => {
  assert.deepEqual(parseTimestamp('2024-02-30T00:00:00Z'), {
    ok: false,
    detail: 'day 30 does not exist in 2024-02',
  });
  assert.deepEqual(parseTimestamp('2023-02-29T00:00:00Z'), {
    ok: false,
    detail: 'day 29 does not exist in 2023-02',
  });
  assert.deepEqual(parseTimestamp('2024-04-31T00:00:00Z'), {
    ok: false,
    detail: 'day 31 does not exist in 2024-04',
  });
});

test('24:00:00 and the leap second 23:59:60 are refused', () => {
  assert.deepEqual(parseTimestamp('2024-01-01T24:00:00Z'), {
    ok: false,
    detail: 'time 24:00:00 is out of range (no 24:00, no leap seconds)',
  });
  assert.deepEqual(parseTimestamp('2016-12-31T23:59:60Z'), {
    ok: false,
    detail: 'time 23:59:60 is out of range (no 24:00, no leap seconds)',
  });
  assert.deepEqual(parseTimestamp('2016-12-31T23:60:00Z'), {
    ok: false,
    detail: 'time 23:60:00 is out of range (no 24:00, no leap seconds)',
  });
});

test('month 00 / 13 and day 00 are refused', () => {
  assert.deepEqual(parseTimestamp('2024-13-01T00:00:00Z'), { ok: false, detail: 'month 13 is out of range' });
  assert.deepEqual(parseTimestamp('2024-00-01T00:00:00Z'), { ok: false, detail: 'month 00 is out of range' });
  assert.deepEqual(parseTimestamp('2024-01-00T00:00:00Z'), {
    ok: false,
    detail: 'day 00 does not exist in 2024-01',
  });
});

test('year 0000 is refused', () => {
  assert.deepEqual(parseTimestamp('0000-01-01T00:00:00Z'), {
    ok: false,
    detail: 'year 0000 is out of range',
  });
});

test('an offset that carries the instant outside years 0001-9999 is refused', () => {
  assert.deepEqual(parseTimestamp('9999-12-31T23:59:59-01:00'), {
    ok: false,
    detail: '"9999-12-31T23:59:59-01:00" is outside years 0001-9999 in UTC',
  });
  assert.deepEqual(parseTimestamp('0001-01-01T00:30:00+01:00'), {
    ok: false,
    detail: '"0001-01-01T00:30:00+01:00" is outside years 0001-9999 in UTC',
  });
  assert.deepEqual(parseTimestamp('9999-12-31T23:59:59Z'), {
    ok: true,
    iso: '9999-12-31T23:59:59.000Z',
    ms: 253402300799000,
  });
});

test('offsets beyond 23:59 are refused', () => {
  assert.deepEqual(parseTimestamp('2024-01-01T00:00:00+24:00'), {
    ok: false,
    detail: 'timezone offset +24:00 is out of range',
  });
  assert.deepEqual(parseTimestamp('2024-01-01T00:00:00+01:60'), {
    ok: false,
    detail: 'timezone offset +01:60 is out of range',
  });
});

test('a date-time without a timezone is refused', () => {
  assert.deepEqual(parseTimestamp('2024-01-01T00:00:00'), {
    ok: false,
    detail: '"2024-01-01T00:00:00" is not an RFC 3339 date-time with a timezone',
  });
  assert.deepEqual(parseTimestamp('2024-01-01'), {
    ok: false,
    detail: '"2024-01-01" is not an RFC 3339 date-time with a timezone',
  });
});

test('garbage and lenient Date formats are refused with the input quoted', () => {
  assert.deepEqual(parseTimestamp('garbage'), {
    ok: false,
    detail: '"garbage" is not an RFC 3339 date-time with a timezone',
  });
  assert.deepEqual(parseTimestamp('Mon, 01 Jan 2024 00:00:00 GMT'), {
    ok: false,
    detail: '"Mon, 01 Jan 2024 00:00:00 GMT" is not an RFC 3339 date-time with a timezone',
  });
  assert.deepEqual(parseTimestamp('2024-1-1T00:00:00Z'), {
    ok: false,
    detail: '"2024-1-1T00:00:00Z" is not an RFC 3339 date-time with a timezone',
  });
  assert.deepEqual(parseTimestamp(' 2024-01-01T00:00:00Z'), {
    ok: false,
    detail: '" 2024-01-01T00:00:00Z" is not an RFC 3339 date-time with a timezone',
  });
});

test('a long garbage string is clipped to 64 characters in the detail', () => {
  const r = parseTimestamp('x'.repeat(100));
  assert.deepEqual(r, {
    ok: false,
    detail: `"${'x'.repeat(64)}…" is not an RFC 3339 date-time with a timezone`,
  });
});

test('non-string, non-number input is refused with its type', () => {
  assert.deepEqual(parseTimestamp(null), {
    ok: false,
    detail: 'expected an RFC 3339 string or epoch number, got object',
  });
  assert.deepEqual(parseTimestamp(true), {
    ok: false,
    detail: 'expected an RFC 3339 string or epoch number, got boolean',
  });
  assert.deepEqual(parseTimestamp(undefined), {
    ok: false,
    detail: 'expected an RFC 3339 string or epoch number, got undefined',
  });
});

test('epoch seconds and epoch milliseconds give the same instant', () => {
  const expected = { ok: true, iso: '2023-11-14T22:13:20.000Z', ms: 1700000000000 };
  assert.deepEqual(parseTimestamp(1700000000), expected);
  assert.deepEqual(parseTimestamp(1700000000000), expected);
  assert.deepEqual(parseTimestamp(1700000000.5), {
    ok: true,
    iso: '2023-11-14T22:13:20.500Z',
    ms: 1700000000500,
  });
});

test('the seconds/milliseconds cut-over is at 1e11', () => {
  assert.deepEqual(parseTimestamp(99999999999), {
    ok: true,
    iso: '5138-11-16T09:46:39.000Z',
    ms: 99999999999000,
  });
  assert.deepEqual(parseTimestamp(1e11), { ok: true, iso: '1973-03-03T09:46:40.000Z', ms: 1e11 });
});

test('zero, negative, NaN and infinite epochs are refused', () => {
  assert.deepEqual(parseTimestamp(0), { ok: false, detail: 'epoch 0 is not a positive finite number' });
  assert.deepEqual(parseTimestamp(-5), { ok: false, detail: 'epoch -5 is not a positive finite number' });
  assert.deepEqual(parseTimestamp(Number.NaN), {
    ok: false,
    detail: 'epoch NaN is not a positive finite number',
  });
  assert.deepEqual(parseTimestamp(Number.POSITIVE_INFINITY), {
    ok: false,
    detail: 'epoch Infinity is not a positive finite number',
  });
});

test('epoch milliseconds past year 9999 are refused', () => {
  assert.deepEqual(parseTimestamp(253402300800000), {
    ok: false,
    detail: 'epoch 253402300800000 is out of range',
  });
});

test('years 0001-0099 stay in the first century (not mapped to 19xx)', () => {
  assert.deepEqual(parseTimestamp('0001-01-01T00:00:00Z'), {
    ok: true,
    iso: '0001-01-01T00:00:00.000Z',
    ms: -62135596800000,
  });
  const r = parseTimestamp('0050-06-15T10:00:00.5+02:00');
  assert.deepEqual(r, { ok: true, iso: '0050-06-15T08:00:00.500Z', ms: -60575011199500 });
  const r99 = parseTimestamp('0099-12-31T23:59:59Z');
  assert.equal(r99.ok && r99.iso, '0099-12-31T23:59:59.000Z');
});

test('leap years in the first centuries follow the proleptic Gregorian calendar', () => {
  const r4 = parseTimestamp('0004-02-29T00:00:00Z');
  assert.equal(r4.ok && r4.iso, '0004-02-29T00:00:00.000Z');
  assert.deepEqual(parseTimestamp('0100-02-29T00:00:00Z'), {
    ok: false,
    detail: 'day 29 does not exist in 0100-02',
  });
  const r400 = parseTimestamp('0400-02-29T00:00:00Z');
  assert.equal(r400.ok && r400.iso, '0400-02-29T00:00:00.000Z');
});

test('the result round-trips: parsing the normalised iso gives the same value', () => {
  for (const input of [
    '2024-02-29T12:34:56.789+05:45',
    '1999-12-31T23:59:59-12:00',
    '0042-03-04T05:06:07Z',
  ]) {
    const a = parseTimestamp(input);
    assert.ok(a.ok, input);
    assert.deepEqual(parseTimestamp(a.iso), a);
  }
});
