import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Budget } from '../../tasks/lib/safety/budget.ts';
import { applyRedactions, detectPii, PII_TYPES, type PiiType } from '../../tasks/lib/safety/pii.ts';
import { HASHED_ID_PREFIX, piiFlag, redactRecord, safeId } from '../../tasks/lib/safety/redact.ts';

const redact = (s: string): string => applyRedactions(s, detectPii(s, new Budget(), 's'));
const types = (s: string): string[] =>
  detectPii(s, new Budget(), 's').map((p) => `${p.type}:${s.slice(p.start, p.end)}`);

test('each PII type is replaced by its typed placeholder', () => {
  assert.equal(redact('Mail jordan.reyes12@example.com today.'), 'Mail <EMAIL_ADDRESS> today.');
  assert.equal(redact('Call +1 (212) 555-0123 or (415) 555-0199.'), 'Call <PHONE_NUMBER> or <PHONE_NUMBER>.');
  assert.equal(redact('UK office: +44 20 7946 0958'), 'UK office: <PHONE_NUMBER>');
  assert.equal(redact('card 4111 1111 1111 1111, exp 12/29'), 'card <CREDIT_CARD>, exp 12/29');
  assert.equal(redact('card 5500-0000-0000-0004'), 'card <CREDIT_CARD>');
  assert.equal(
    redact('IBAN DE89 3704 0044 0532 0130 00 and GB82WEST12345698765432.'),
    'IBAN <IBAN_CODE> and <IBAN_CODE>.',
  );
  assert.equal(redact('from 8.8.8.8 and 2607:f8b0:4005:80a::200e'), 'from <IP_ADDRESS> and <IP_ADDRESS>');
});

test('validation keeps look-alikes: private / loopback / documentation IPs, bad checksums, versions, dates, ids', () => {
  const keep = [
    'connect ECONNREFUSED 127.0.0.1:8000 via 10.0.0.1 and 192.168.1.20, ::1, fe80::1, 2001:db8::1, 203.0.113.5',
    'card 4111 1111 1111 1112 (Luhn fails), order 1234567890123456',
    'IBAN DE89 3704 0044 0532 0130 01 (mod-97 fails)',
    'version 1.2.3.4, numpy 1.26.4, released 2024-05-15 12:30:45',
    'flight HAT170, reservation ZFA04Y, payment credit_card_7815826, user mia_li_3668',
    `commit 3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345, epoch 1730419200, id 1234567890`,
    'out[3::6] = arr[1::4]; std::vector<int> v; a::b',
    'git@github.com:acme/repo.git, @property, user@localhost, pkg@1.2.3',
    'ref 555-0123, tel 12345, price 1,234.56, 3.14159',
  ];
  for (const s of keep) assert.deepEqual(types(s), [], s);
});

test('numbers as programs print them are not PII: decimals, floats in JSON and prose, clock times', () => {
  // found at 1M rows: a tool result's 123724.79999999999 read as a card once the dot was dropped
  // (Luhn + an issuer prefix), so export-rag's rescan refused a row screen had passed
  const keep = [
    '123724.79999999999',
    '2.718281828459045',
    '[{"country":"GB","revenue":123724.79999999999}]',
    'revenue 4111.111111111111 total',
    'at 2026-10-01 12:06:45.369 1234567 bytes',
  ];
  for (const s of keep) assert.deepEqual(types(s), [], s);
  // every double as JavaScript prints it, bare, in JSON and in prose (a fixed LCG, so the cases are the same each run)
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const found: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const x = (rnd() + rnd() * 1e-9) * 10 ** (Math.floor(rnd() * 16) - 3);
    for (const s of [String(x), `{"revenue":${x}}`, `took ${x} s`, `[${x}, ${rnd() * 1000}]`])
      if (types(s).length > 0) found.push(`${s} → ${types(s).join(', ')}`);
  }
  assert.deepEqual(found.slice(0, 5), []);
  // card groupings stay cards: 4-4-4-4 with spaces, dashes or dots, Amex 4-6-5, one run
  for (const card of [
    '4111 1111 1111 1111',
    '5555-5555-5555-4444',
    '4000.0566.5566.5556',
    '3782 822463 10005',
    '6011111111111117',
  ])
    assert.deepEqual(types(`card ${card} on file`), [`CREDIT_CARD:${card}`], card);
});

test('hostile strings: 100k "a@", a 200k-digit run and 50k "?" stay fast and find nothing', () => {
  for (const s of [
    'a@'.repeat(100_000),
    '1'.repeat(200_000),
    '?'.repeat(50_000),
    '1 '.repeat(100_000),
    `${'a'.repeat(70)}@${'b'.repeat(300)}.com`.repeat(2000),
  ]) {
    const t0 = performance.now();
    assert.deepEqual(detectPii(s, new Budget(), 's'), []);
    assert.ok(performance.now() - t0 < 2000);
  }
});

test('redactRecord redacts free text, hashes ids that carry PII, keeps provenance, keeps JSON strings valid JSON', () => {
  const rec = {
    run_id: 'tr_1',
    task_key: 'mail:jordan@example.com',
    flags: [],
    provenance: { source_file: 'data/_kb/a.jsonl', line_offset: 0, sig_hash: 'x', recorded_at: null },
    run: {
      messages: [
        { role: 'user', content: 'I am jordan@example.com, call +1 (212) 555-0123' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: {
                name: 'lookup',
                arguments: '{"email": "jordan@example.com", "amount": 2125550123}',
              },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"ip": "8.8.8.8", "private": "10.0.0.2"}' },
      ],
    },
  };
  const r = redactRecord(rec, new Budget());
  assert.equal(r.value.run_id, 'tr_1', 'an id without personal data is kept');
  assert.match(r.value.task_key, /^pii-id:[0-9a-f]{24}$/, 'an id carrying an e-mail is replaced by its hash');
  assert.equal(r.ids, 1);
  assert.deepEqual(r.value.provenance, rec.provenance);
  const [u, a, t] = r.value.run.messages as unknown as [
    { content: string },
    { tool_calls: [{ function: { arguments: string } }] },
    { content: string },
  ];
  assert.equal(u.content, 'I am <EMAIL_ADDRESS>, call <PHONE_NUMBER>');
  assert.equal(a.tool_calls[0].function.arguments, '{"email": "<EMAIL_ADDRESS>", "amount": 2125550123}');
  assert.deepEqual(JSON.parse(t.content), { ip: '<IP_ADDRESS>', private: '10.0.0.2' });
  assert.deepEqual(
    Object.entries(r.counts).filter(([, n]) => n > 0),
    [
      ['EMAIL_ADDRESS', 2],
      ['PHONE_NUMBER', 1],
      ['IP_ADDRESS', 1],
    ],
  );
  assert.equal(r.spans, 4);
  assert.equal(piiFlag(r.counts), 'pii_redacted:EMAIL_ADDRESS+PHONE_NUMBER+IP_ADDRESS');
  assert.equal(piiFlag(Object.fromEntries(PII_TYPES.map((t) => [t, 0])) as Record<PiiType, number>), null);
});

test('structure is kept: redaction inside JSON arguments re-encodes only changed literals, so they stay valid JSON', () => {
  const code =
    'import pytest\n\n@pytest.mark.skipif(sys.platform == "win32", reason="posix")\ndef test_a():\n    assert send("ops@example.com")\n';
  const args = JSON.stringify({ path: 'tests/test_a.py', content: code, big: 1 }).replace(
    '"big":1',
    '"big": 12345678901234567890',
  );
  const rec = {
    run: {
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'write', arguments: args } }],
        },
        {
          role: 'tool',
          tool_call_id: 'c1',
          content:
            '{"user": {"first_name": "Amelia", "last_name": "Rossi", "phone": 4155552671, "zip": "78750"}, "note": "mail alice\\u0040example.org"}',
        },
      ],
    },
  };
  const r = redactRecord(rec, new Budget());
  const [a, t] = r.value.run.messages as unknown as [
    { tool_calls: [{ function: { arguments: string } }] },
    { content: string },
  ];
  const out = a.tool_calls[0].function.arguments;
  const parsed = JSON.parse(out) as { content: string };
  assert.ok(parsed.content.includes('@pytest.mark.skipif'), 'a decorator in escaped code is not an e-mail');
  assert.ok(parsed.content.includes('<EMAIL_ADDRESS>') && !out.includes('ops@example.com'));
  assert.ok(
    out.includes('"big": 12345678901234567890'),
    'untouched bytes (a big integer) are kept as written',
  );
  assert.deepEqual(JSON.parse(t.content), {
    user: { first_name: '<PERSON>', last_name: '<PERSON>', phone: '<PHONE_NUMBER>', zip: '78750' },
    note: 'mail <EMAIL_ADDRESS>',
  });
});

test('safeId answers an id checked before the same way, charging the same work, and never past the budget', () => {
  const carrying = 'run_jane.roe@example.com_7';
  const plain = 'tr_5f1c0a9e77d2b3c4';
  for (const id of [carrying, plain]) {
    const first = new Budget();
    const a = safeId(id, first);
    assert.ok(first.spent > 0, 'deciding an id costs work');
    const again = new Budget();
    assert.equal(safeId(id, again), a);
    assert.equal(again.spent, first.spent, 'a remembered id charges what checking it cost');
    // a budget the check does not fit: it runs out, as checking for real would
    const short = new Budget(first.spent - 1);
    safeId(id, short);
    assert.equal(short.exhausted, true);
  }
  assert.ok(safeId(carrying, new Budget()).startsWith(HASHED_ID_PREFIX));
  assert.equal(safeId(plain, new Budget()), plain);
});

test('safeId: a long id is never published as another id that differs from it only in a lone surrogate', () => {
  const base = 'run-'.padEnd(200, 'a');
  const first = `${base}\uFFFD`;
  const second = `${base}\uD800`;
  assert.equal(safeId(first, new Budget(1_000_000)), first);
  assert.equal(safeId(second, new Budget(1_000_000)), second, 'not the remembered decision about the first');
});

test('safeId: the memo of decided ids keeps neither a long clean id nor its text as the decision', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  // 2,000 clean ids of 20,000 characters (40 MB of text), each a fresh string as JSON.parse makes them
  for (let i = 0; i < 2000; i++) {
    const id = JSON.parse(JSON.stringify(`task-${i}-`.padEnd(20_000, 'k'))) as string;
    assert.equal(safeId(id, new Budget(10_000_000)), id);
  }
  gc();
  const kept = process.memoryUsage().heapUsed - before;
  assert.ok(kept < 10e6, `${(kept / 1e6).toFixed(1)} MB still held after the ids were dropped`);
});
