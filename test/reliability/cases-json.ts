import assert from 'node:assert/strict';
import { MAX_ARRAY_ITEMS, MAX_KEYS, MAX_STRING_CHARS } from '../../tasks/lib/json-check.ts';
import { linesCase, type CatalogueCase } from './catalogue.ts';
import { gateway, reward } from './fixture.ts';

const ok = reward('ok');
/** A reward row with one field replaced / added as raw JSON text. */
const rawReward = (trace: string, extraJson: string): string =>
  `{"trace_id":"${trace}","timestamp":"2026-10-02T10:00:00Z","environment":"env","reward":1,${extraJson}}`;

/** Section B of the catalogue: line / JSON level. Every case file also holds a good row, which must stay evidence. */
export const JSON_CASES: CatalogueCase[] = [
  {
    id: 20,
    input: 'non-JSON text',
    disposition: 'Q JSON_PARSE',
    run: async () => {
      await linesCase([ok, 'hello world', 'ERROR 2026-10-02 something failed'], {
        1: ['JSON_PARSE', /^not valid JSON: unexpected character, at character \d+ of \d+ \(a letter\)$/],
        2: ['JSON_PARSE'],
      });
    },
  },
  {
    id: 21,
    input: 'JSON but not an object ([...], "s", 1, null, true)',
    disposition: 'Q NOT_AN_OBJECT',
    run: async () => {
      await linesCase([ok, '[{"trace_id":"t"}]', '"s"', '1', 'null', 'true'], {
        1: ['NOT_AN_OBJECT', /^expected a JSON object, got an array$/],
        2: ['NOT_AN_OBJECT', /got string$/],
        3: ['NOT_AN_OBJECT', /got number$/],
        4: ['NOT_AN_OBJECT', /got null$/],
        5: ['NOT_AN_OBJECT', /got boolean$/],
      });
    },
  },
  {
    id: 22,
    input: 'two values on one line {"a":1}{"b":2}',
    disposition: 'Q JSON_TRAILING_DATA',
    run: async () => {
      await linesCase([`${reward('a')}${reward('b')}`, ok], {
        0: [
          'JSON_TRAILING_DATA',
          /^not valid JSON: unexpected non-whitespace character after JSON, at character \d+ of \d+ \("\{"\)$/,
        ],
      });
    },
  },
  {
    id: 23,
    input: 'pretty-printed object spread over lines',
    disposition: 'Q per line (never re-joined) + file flag looks_pretty_printed',
    note: 'Each line gets the reason its own text gives: JSON_PARSE for "{" and "}", JSON_TRAILING_DATA for a `"key": value,` line, NOT_AN_OBJECT for none here.',
    run: async () => {
      const lines = JSON.stringify(JSON.parse(ok), null, 2).split('\n');
      assert.equal(lines.length, 6);
      await linesCase(
        lines,
        {
          0: ['JSON_PARSE'],
          1: ['JSON_TRAILING_DATA'],
          2: ['JSON_TRAILING_DATA'],
          3: ['JSON_TRAILING_DATA'],
          4: ['JSON_TRAILING_DATA'],
          5: ['JSON_PARSE'],
        },
        { flags: ['looks_pretty_printed'] },
      );
    },
  },
  {
    id: 24,
    input: 'JSON5 / JSONC: comments, trailing commas, single quotes, NaN / Infinity / undefined',
    disposition: 'Q JSON_PARSE (no lenient parser)',
    run: async () => {
      await linesCase(
        [
          ok,
          rawReward('c', '"x":1 /* note */'),
          rawReward('tc', '"x":1,'),
          "{'trace_id':'q'}",
          rawReward('n', '"x":NaN'),
          rawReward('i', '"x":Infinity'),
          rawReward('u', '"x":undefined'),
        ],
        {
          1: ['JSON_PARSE'],
          2: ['JSON_PARSE'],
          3: ['JSON_PARSE'],
          4: ['JSON_PARSE'],
          5: ['JSON_PARSE'],
          6: ['JSON_PARSE'],
        },
      );
    },
  },
  {
    id: 25,
    input: 'duplicate keys with different values',
    disposition: 'Q DUPLICATE_KEY',
    run: async () => {
      await linesCase([ok, rawReward('d', '"trace_id":"other"')], {
        1: ['DUPLICATE_KEY', /1 duplicate key\(s\); JSON\.parse would keep only the last/],
      });
    },
  },
  {
    id: 26,
    input: 'duplicate keys with the same value',
    disposition: 'Q DUPLICATE_KEY (strict I-JSON)',
    run: async () => {
      await linesCase([ok, rawReward('s', '"reward":1')], { 1: ['DUPLICATE_KEY'] });
    },
  },
  {
    id: 27,
    input: 'integers beyond 2^53',
    disposition:
      'kept, never rounded: read as its decimal string (flag big_integer_as_string); Q UNSAFE_INTEGER only in a numeric field the adapter computes with',
    run: async () => {
      const { caseEvidence } = await linesCase(
        [
          ok,
          rawReward('big', '"episode_id":9007199254740993'),
          '{"trace_id":"n","timestamp":"2026-10-02T10:00:00Z","environment":"env","reward":9007199254740993}',
        ],
        { 2: ['UNSAFE_INTEGER', /^integer at \$\.reward is beyond 2\^53/] },
        { evidenceFlags: [[], ['big_integer_as_string']] },
      );
      assert.equal(caseEvidence.length, 2);
    },
  },
  {
    id: 28,
    input: '1e400 / -1e400',
    disposition: 'Q NUMBER_OUT_OF_RANGE',
    run: async () => {
      await linesCase([ok, rawReward('p', '"x":1e400'), rawReward('m', '"x":-1e400')], {
        1: ['NUMBER_OUT_OF_RANGE', /^number at \$\.x is outside the double range$/],
        2: ['NUMBER_OUT_OF_RANGE'],
      });
    },
  },
  {
    id: 29,
    input: '-0',
    disposition: 'A + normalised to 0, flag negative_zero',
    run: async () => {
      const { caseEvidence } = await linesCase(
        [ok, `{"trace_id":"z","timestamp":"2026-10-02T10:00:00Z","environment":"env","reward":-0}`],
        {},
        { evidenceFlags: [[], ['negative_zero']] },
      );
      const sig = caseEvidence[1];
      assert.ok(sig?.kind === 'signal' && sig.signal.type === 'reward');
      assert.ok(Object.is(sig.signal.value, 0));
    },
  },
  {
    id: 30,
    input: 'deep nesting (10^5 levels)',
    disposition: 'Q TOO_DEEP (pre-scan, no stack overflow)',
    run: async () => {
      await linesCase([ok, rawReward('deep', `"x":${'['.repeat(100_000)}${']'.repeat(100_000)}`)], {
        1: ['TOO_DEEP', /^nesting deeper than 64 levels$/],
      });
    },
  },
  {
    id: 31,
    input: 'huge string / 1M-element array / 100k keys, each under the line cap',
    disposition: 'Q FIELD_TOO_LARGE / TOO_MANY_KEYS',
    run: async () => {
      const keys = Array.from({ length: MAX_KEYS + 1 }, (_, i) => `"k${i}":0`).join(',');
      await linesCase(
        [
          ok,
          rawReward('str', `"blob":"${'x'.repeat(MAX_STRING_CHARS + 1)}"`),
          rawReward('arr', `"items":[${new Array(1_000_000).fill('0').join(',')}]`),
          rawReward('keys', `"m":{${keys}}`),
        ],
        {
          1: [
            'FIELD_TOO_LARGE',
            new RegExp(
              `^string at \\$\\.blob is ${MAX_STRING_CHARS + 1} characters, over the limit of ${MAX_STRING_CHARS}$`,
            ),
          ],
          2: [
            'FIELD_TOO_LARGE',
            new RegExp(`^array at \\$\\.items has 1000000 elements, over the limit of ${MAX_ARRAY_ITEMS}$`),
          ],
          3: ['TOO_MANY_KEYS', new RegExp(`^row has ${MAX_KEYS + 6} keys, over the limit of ${MAX_KEYS}$`)],
        },
      );
    },
  },
  {
    id: 32,
    input: 'lone surrogate \\ud800 / \\udc00',
    disposition: 'Q LONE_SURROGATE',
    run: async () => {
      await linesCase([ok, rawReward('ls', '"x":"a\\ud800b"'), rawReward('lt', '"\\udc00":1')], {
        1: ['LONE_SURROGATE', /^string at \$\.x has a lone UTF-16 surrogate$/],
        2: ['LONE_SURROGATE', /key/],
      });
    },
  },
  {
    id: 33,
    input: 'raw NUL / control bytes in a line',
    disposition: 'Q JSON_PARSE (a NUL in the first 8 KiB refuses the file as BINARY_FILE, #10)',
    run: async () => {
      // a long good first line pushes the raw NUL past the 8 KiB binary sniff
      const long = reward('long', '2026-10-02T10:00:00Z', 1, { note: 'n'.repeat(9000) });
      await linesCase(
        [long, rawReward('ctl', '"x":"a\u0001b"'), rawReward('nul', '"x":"a\u0000b"')],
        {
          1: [
            'JSON_PARSE',
            /^not valid JSON: bad control character in string literal, at character \d+ of \d+ \(control character U\+00[01][0-9A-F]\)$/,
          ],
          2: ['JSON_PARSE'],
        },
        { evidenceFlags: [['unknown_fields']] },
      );
    },
  },
  {
    id: 34,
    input: 'escaped \\u0000 in strings',
    disposition: 'Q NUL_IN_STRING',
    run: async () => {
      await linesCase([ok, rawReward('nul', '"x":"a\\u0000b"')], {
        1: ['NUL_IN_STRING', /^string at \$\.x contains an escaped NUL/],
      });
    },
  },
  {
    id: 35,
    input: '__proto__ / constructor / prototype keys',
    disposition: 'Q FORBIDDEN_KEY',
    run: async () => {
      await linesCase(
        [
          ok,
          rawReward('p1', '"__proto__":{"admin":true}'),
          rawReward('p2', '"m":{"constructor":{"prototype":1}}'),
          rawReward('p3', '"prototype":1'),
        ],
        {
          1: ['FORBIDDEN_KEY', /^key "__proto__" at \$ is not allowed \(prototype pollution\)$/],
          2: ['FORBIDDEN_KEY', /^key "constructor" at \$\.m/],
          3: ['FORBIDDEN_KEY'],
        },
      );
      assert.equal(({} as Record<string, unknown>)['admin'], undefined, 'Object.prototype untouched');
    },
  },
  {
    id: 36,
    input: 'bidi overrides, zero-width characters, confusable roles (Cyrillic "аssistant")',
    disposition:
      'content: A + flags bidi_control / zero_width_char; enums: Q SCHEMA_ENUM (exact ASCII match)',
    run: async () => {
      await linesCase(
        [
          ok,
          reward('b', '2026-10-02T10:00:00Z', 1, { environment: 'env\u202egnp.exe' }),
          reward('z', '2026-10-02T10:00:00Z', 1, { environment: 'e\u200bnv' }),
        ],
        {},
        { evidenceFlags: [[], ['bidi_control'], ['zero_width_char']] },
      );
      const confusable = gateway('conf', {
        messages: [
          { role: 'user', content: 'hi' },
          { role: '\u0430ssistant', content: 'fake' },
        ],
      });
      await linesCase(
        [gateway('fine'), confusable],
        { 1: ['SCHEMA_ENUM', /^\$\.request\.messages\[1\]/] },
        { source: { adapter: 'gateway-call' } },
      );
    },
  },
  {
    id: 37,
    input: 'ANSI escape / terminal control sequences in content',
    disposition: 'A + flag terminal_control',
    run: async () => {
      await linesCase(
        [ok, reward('ansi', '2026-10-02T10:00:00Z', 1, { environment: '\u001b[31mred\u001b[0m' })],
        {},
        { evidenceFlags: [[], ['terminal_control']] },
      );
    },
  },
  {
    id: 38,
    input: 'U+2028 / U+2029 in strings',
    disposition: 'A (valid JSON; not a line break for the reader)',
    run: async () => {
      const { caseEvidence } = await linesCase(
        [ok, reward('ls', '2026-10-02T10:00:00Z', 1, { environment: 'a\u2028b\u2029c' })],
        {},
        { evidenceFlags: [[], []] },
      );
      const s = caseEvidence[1];
      assert.ok(s?.kind === 'signal' && s.signal.type === 'reward');
      assert.equal(s.signal.source, 'a\u2028b\u2029c');
    },
  },
];
