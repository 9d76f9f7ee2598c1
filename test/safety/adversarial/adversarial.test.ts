import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtectedIndex } from '../../../tasks/lib/safety/decontaminate.ts';
import { flatView } from '../../../tasks/lib/safety/decode.ts';
import { screenOne, type ScreenUnit } from '../../../tasks/phases/screen/core.ts';
import { mkDocument, mkJudgment, mkRun } from '../../exports/fixture.ts';
import { benignCases, ENCODINGS, piiCases, PLACES, secretKinds, type Place } from './cases.ts';

/**
 * The adversarial corpus (cases.ts, written from the providers' and formats' documentation) through
 * screen's per-unit core, as the screen phase runs it. Secrets: each kind in several encodings
 * and places must be quarantined SECRET_DETECTED. Personal data: each item, in its locale's
 * format, must be gone from the kept unit (neither as written nor decoded). Benign look-alikes:
 * the unit must be kept unchanged. Recall and false-positive rate are reported per family and
 * must be ≥ 99 % and ≤ 2 %.
 */

const opts = { allow: new Set<string>(), protectedIndex: new ProtectedIndex() };

function unitWith(place: Place, text: string, tag: string): ScreenUnit {
  switch (place) {
    case 'system prompt':
      return {
        kind: 'run',
        record: mkRun({
          id: tag,
          category: 'accepted',
          messages: [
            { role: 'system', content: `You are the support agent.\n${text}` },
            { role: 'user', content: 'Can you help me?' },
            { role: 'assistant', content: 'Sure.' },
          ],
        }),
      };
    case 'user turn':
      return {
        kind: 'run',
        record: mkRun({ id: tag, category: 'accepted', prompt: `Here it is:\n${text}\nthanks` }),
      };
    case 'tool arguments':
      return {
        kind: 'run',
        record: mkRun({
          id: tag,
          category: 'accepted',
          messages: [
            { role: 'user', content: 'run it' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'bash', arguments: JSON.stringify({ command: text }) },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
            { role: 'assistant', content: 'Done.' },
          ],
        }),
      };
    case 'tool result':
      return {
        kind: 'run',
        record: mkRun({
          id: tag,
          category: 'accepted',
          messages: [
            { role: 'user', content: 'read the file' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c1', type: 'function', function: { name: 'read', arguments: '{"path": "x"}' } },
              ],
            },
            { role: 'tool', tool_call_id: 'c1', content: text },
            { role: 'assistant', content: 'Read it.' },
          ],
        }),
      };
    case 'knowledge document':
      return { kind: 'document', record: mkDocument(tag, 'Runbook', `Steps:\n${text}\nEnd.`) };
    case 'pairwise judgment':
      return { kind: 'judgment', record: mkJudgment(tag, 'Which config?', `Use this:\n${text}`, 'No idea.') };
    case 'task_key id':
      return { kind: 'run', record: mkRun({ id: tag, category: 'accepted', task: `task:${text}` }) };
  }
}

const pct = (a: number, b: number): string => `${((100 * a) / Math.max(b, 1)).toFixed(1)} %`;

/** Per-family counts → lines of a report. */
function report(title: string, rows: Map<string, { n: number; hit: number }>): string {
  return [
    title,
    ...[...rows]
      .sort()
      .map(
        ([k, v]) =>
          `  ${k.padEnd(32)} ${String(v.hit).padStart(4)} / ${String(v.n).padEnd(4)} ${pct(v.hit, v.n)}`,
      ),
  ].join('\n');
}

const bump = (m: Map<string, { n: number; hit: number }>, k: string, hit: boolean): void => {
  const v = m.get(k) ?? { n: 0, hit: 0 };
  v.n++;
  if (hit) v.hit++;
  m.set(k, v);
};

test('secrets: ≥ 120 cases over ≥ 50 kinds, every encoding and place, ≥ 99 % quarantined per family', () => {
  const kinds = secretKinds();
  const encodings = Object.keys(ENCODINGS);
  const byFamily = new Map<string, { n: number; hit: number }>();
  const byEncoding = new Map<string, { n: number; hit: number }>();
  const byPlace = new Map<string, { n: number; hit: number }>();
  const missed: string[] = [];
  let cases = 0;
  kinds.forEach((k, i) => {
    const combos: [string, Place][] = [
      ['plain', PLACES[i % PLACES.length] as Place],
      [encodings[1 + (i % (encodings.length - 1))] as string, PLACES[(i + 3) % PLACES.length] as Place],
      [encodings[1 + ((i + 5) % (encodings.length - 1))] as string, PLACES[(i + 5) % PLACES.length] as Place],
    ];
    for (const [enc, place] of combos) {
      // a multi-line key in an id field is not a shape ids come in: such kinds go to a user turn
      const where: Place = place === 'task_key id' && k.context.includes('\n') ? 'user turn' : place;
      const text = (ENCODINGS[enc] as (t: string, s: string) => string)(k.context, k.secret);
      const r = screenOne(unitWith(where, text, `adv-${cases}`), opts, {});
      const hit = r.type === 'drop' && r.drop.reason.startsWith('SECRET_DETECTED');
      cases++;
      bump(byFamily, k.family, hit);
      bump(byEncoding, enc, hit);
      bump(byPlace, where, hit);
      if (!hit) missed.push(`${k.kind} / ${enc} / ${where}${r.type === 'drop' ? ` (${r.drop.reason})` : ''}`);
    }
  });
  const text = [
    report('secret recall by family', byFamily),
    report('by encoding', byEncoding),
    report('by place', byPlace),
  ].join('\n');
  process.stdout.write(`${text}\n`);
  assert.ok(cases >= 120, `${cases} secret cases`);
  assert.ok(new Set(kinds.map((k) => k.kind)).size >= 50, 'at least 50 kinds');
  assert.ok(encodings.length >= 10 && byPlace.size === PLACES.length, 'every place is used');
  for (const [fam, v] of byFamily)
    assert.ok(v.hit / v.n >= 0.99, `${fam}: recall ${pct(v.hit, v.n)}; missed:\n${missed.join('\n')}`);
});

/** True when the item (as written or decoded) is still in the kept unit's JSON or its decoded strings. */
function leaks(record: unknown, item: string): boolean {
  const decodedItem = flatView(item)?.text ?? item;
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      found.push(v, flatView(v)?.text ?? v);
      if (/^[[{]/.test(v.trim()))
        try {
          walk(JSON.parse(v));
        } catch {
          // not JSON
        }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
    else if (typeof v === 'number') found.push(String(v));
  };
  walk(record);
  const norm = (s: string): string => s.replace(/[\s\u00a0]+/g, ' ');
  return found.some((s) => s.includes(item) || norm(s).includes(norm(decodedItem)));
}

test('personal data: ≥ 80 cases over ≥ 12 locales, redacted in every place, ≥ 99 % per type', () => {
  const cases = piiCases();
  const byType = new Map<string, { n: number; hit: number }>();
  const missed: string[] = [];
  const places: Place[] = [
    'user turn',
    'tool result',
    'knowledge document',
    'pairwise judgment',
    'system prompt',
  ];
  cases.forEach((c, i) => {
    const place = places[i % places.length] as Place;
    const r = screenOne(unitWith(place, c.text, `pii-${i}`), opts, {});
    const gone = r.type === 'drop' ? r.drop.reason === 'PII_DENSE' : !leaks(r.unit.record, c.item);
    bump(byType, c.type, gone);
    if (!gone) missed.push(`${c.locale} ${c.type} "${c.item}" in ${place}`);
  });
  // and in an id: an e-mail in a task key is replaced by a hashed id
  const id = screenOne(unitWith('task_key id', 'alice.smith@example.com', 'pii-id'), opts, {});
  assert.ok(
    id.type === 'keep' && !JSON.stringify(id.unit.record).includes('alice.smith'),
    'an id carrying an e-mail is hashed',
  );
  process.stdout.write(`${report('personal-data recall by type', byType)}\n`);
  assert.ok(cases.length >= 80, `${cases.length} personal-data cases`);
  assert.ok(new Set(cases.map((c) => c.locale)).size >= 12, 'at least 12 locales');
  for (const [t, v] of byType)
    assert.ok(v.hit / v.n >= 0.99, `${t}: recall ${pct(v.hit, v.n)}; missed:\n${missed.join('\n')}`);
});

test('benign look-alikes: ≥ 60, kept unchanged, ≤ 2 % false positives per family', () => {
  const cases = benignCases();
  const byFamily = new Map<string, { n: number; hit: number }>();
  const fps: string[] = [];
  cases.forEach((c, i) => {
    const u = unitWith('user turn', c.text, `benign-${i}`);
    const r = screenOne(u, opts, {});
    const changed = r.type === 'drop' || JSON.stringify(r.unit.record) !== JSON.stringify(u.record);
    bump(byFamily, c.family, changed);
    if (changed)
      fps.push(
        `${c.family}: ${c.text.slice(0, 80)} → ${r.type === 'drop' ? r.drop.reason : JSON.stringify((r.unit.record as { run: { messages: { content: string }[] } }).run.messages[0]?.content).slice(0, 120)}`,
      );
  });
  process.stdout.write(`${report('benign false positives by family', byFamily)}\n`);
  assert.ok(cases.length >= 60, `${cases.length} benign cases`);
  for (const [f, v] of byFamily)
    assert.ok(v.hit / v.n <= 0.02, `${f}: false positives ${pct(v.hit, v.n)}:\n${fps.join('\n')}`);
});

test('an id that carries PII is hashed even when no text of the unit needs redaction', () => {
  // a task key whose hex part happens to be a Luhn-valid card number, in a unit with clean text
  const u = unitWith('user turn', 'nothing personal here', 'idonly');
  (u.record as { task_key: string }).task_key = 'prompt:4111111111111111';
  const r = screenOne(u, opts, {});
  assert.ok(r.type === 'keep');
  assert.match((r.unit.record as { task_key: string }).task_key, /^pii-id:[0-9a-f]{24}$/);
});
