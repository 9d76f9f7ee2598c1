import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REPO } from '../helpers/project.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import { Budget } from '../../tasks/lib/safety/budget.ts';
import {
  isDecodableJwt,
  SECRET_RULES,
  SECRET_RULES_VERSION,
  shannonEntropy,
} from '../../tasks/lib/safety/secret-rules.ts';
import { newScan, scanRecord, type SecretHit } from '../../tasks/lib/safety/secret-scan.ts';
import { fakeChars, fakeSecrets } from './fakes.ts';

const scan = (record: unknown, allow: string[] = []): SecretHit[] =>
  scanRecord(record, newScan(new Budget(), new Set(allow)));
const rulesOf = (hits: SecretHit[]): string[] => [...new Set(hits.map((h) => h.rule))];
const secrets = fakeSecrets();

test('every rule has a unique id, a version, lowercase keywords and a global regex', () => {
  const ids = SECRET_RULES.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const r of SECRET_RULES) {
    assert.equal(r.since, SECRET_RULES_VERSION, r.id);
    assert.ok(r.keywords.length > 0 && r.keywords.every((k) => k === k.toLowerCase()), r.id);
    assert.ok(r.regex.global, r.id);
  }
});

test('docs/safety.md lists every rule with its version and source', () => {
  const doc = readFileSync(`${REPO}docs/safety.md`, 'utf8');
  assert.ok(doc.includes(`### Rule table (version ${SECRET_RULES_VERSION})`));
  for (const r of SECRET_RULES)
    assert.ok(
      doc.includes(`| \`${r.id}\` | ${r.since} | ${r.source} |`),
      `${r.id} is missing from docs/safety.md`,
    );
});

for (const [rule, secret] of Object.entries(fakeSecrets())) {
  test(`${rule}: found in a message, reported by path and offsets with the sha256, never the text`, () => {
    const content = `Here is the config:\n${secret}\nthanks`;
    const hits = scan({ run: { messages: [{ role: 'user', content }] } });
    assert.equal(hits[0]?.rule, rule, JSON.stringify(hits));
    const h = hits[0] as SecretHit;
    assert.equal(h.path, 'run.messages[0].content');
    assert.ok(h.start >= 20 && h.end <= 20 + secret.length, `${h.start}..${h.end}`);
    assert.equal(h.sha256, sha256(content.slice(h.start, h.end)));
    assert.ok(
      !JSON.stringify(hits).includes(content.slice(h.start, h.end)),
      'a hit never carries the secret',
    );
  });
}

test('look-alikes are not secrets: words, hashes, ids, placeholders, low entropy, undecodable JWT', () => {
  const c = fakeChars(7);
  const clean = [
    'sk-proj-short',
    'the task-key is ready',
    `commit ${c(40, '0123456789abcdef')}`,
    'AKIAIOSFODNN7EXAMPLE',
    `ghp_${'a'.repeat(36)}`,
    'api_key = "your_api_key_here"',
    'password: ********',
    'password = os.environ["DB_PASSWORD"]',
    'def check_password(password: str) -> bool:',
    `token_commit: ${c(40, '0123456789abcdef')}`,
    'idempotency key: 3f1e8a52-9c4b-4e7a-8f0d-2b6c1a9e7d45',
    'token: abcdefghijklmnopqrstuvwxyz',
    'max_tokens: 1024',
    'api_version = "2024-02-15-preview"',
    'key: /usr/local/bin/python3.11',
    `eyJ${c(20)}.eyJ${c(20)}.${c(20)}`,
    'https://user:password@example.com/x',
    'postgres://admin:admin@db/app',
    'flight HAT170 on 2024-05-15, reservation ZFA04Y, payment credit_card_7815826',
  ];
  for (const s of clean) assert.deepEqual(scan({ text: s }), [], s);
});

test('keys are scanned, and key: value pairs whose key names a secret', () => {
  const c = fakeChars(3);
  const aws = secrets['aws-access-token'] as string;
  const v = c(20);
  const hits = scan({
    config: { [aws]: 1, db_password: v, task_key: `prompt:${c(16, '0123456789abcdef')}` },
  });
  assert.deepEqual(
    hits.map((h) => [h.rule, h.path]),
    [
      ['aws-access-token', 'config.<aws-access-token>~key'],
      ['generic-api-key', 'config.db_password'],
    ],
  );
});

test('escaped, percent-encoded, base64-wrapped and JSON-in-string secrets are found in the decoded text', () => {
  const gh = secrets['github-pat'] as string;
  const aws = secrets['aws-access-token'] as string;
  const oai = secrets['openai-api-key'] as string;
  const ant = secrets['anthropic-oauth-token'] as string;
  const cases: [unknown, string, string][] = [
    [{ s: `token=\\u0067hp_${gh.slice(4)}` }, 'github-pat', 's~decoded'],
    [{ s: `https://x.test/?k=%41${aws.slice(1)}` }, 'aws-access-token', 's~decoded'],
    [
      { s: `env: ${Buffer.from(`OPENAI_API_KEY=${oai}`).toString('base64')}` },
      'openai-api-key',
      's~base64@5',
    ],
    [{ s: `{"auth": "sk\\u002dant-oat01-${ant.slice(13)}"}` }, 'anthropic-oauth-token', 's~decoded'],
  ];
  for (const [rec, rule, path] of cases) {
    const hits = scan(rec);
    assert.deepEqual(
      hits.map((h) => [h.rule, h.path]),
      [[rule, path]],
      JSON.stringify(hits),
    );
  }
});

test('a secret split across two adjacent messages is found at the seam; a whole one is not reported twice', () => {
  const gh = secrets['github-pat'] as string;
  const oai = secrets['openai-api-key'] as string;
  const messages = [
    { role: 'user', content: `my token is ${gh.slice(0, 17)}` },
    { role: 'assistant', content: null },
    { role: 'user', content: `${gh.slice(17)} (second half)` },
    { role: 'user', content: `key ${oai}` },
    { role: 'assistant', content: 'noted' },
  ];
  const hits = scan({ run: { messages } });
  assert.deepEqual(
    hits.map((h) => [h.rule, h.path, h.start, h.end]),
    [
      ['openai-api-key', 'run.messages[3].content', 4, 4 + oai.length],
      ['github-pat', 'run.messages[0].content+run.messages[2].content', 12, 12 + gh.length],
    ],
  );
});

test('a JWT counts only when its header and payload decode to JSON objects', () => {
  const jwt = secrets['jwt'] as string;
  assert.equal(isDecodableJwt(jwt), true);
  assert.deepEqual(rulesOf(scan({ h: `Authorization: Bearer ${jwt}` })), ['jwt']);
  const [h, , s] = jwt.split('.');
  const broken = `${h}.eyJ${fakeChars(9)(40)}.${s}`;
  assert.equal(isDecodableJwt(broken), false);
  assert.deepEqual(scan({ h: `the example token ${broken} is malformed` }), []);
  // after Bearer it is a credential all the same (bearer-token), whatever its shape
  assert.deepEqual(rulesOf(scan({ h: `Bearer ${broken}` })), ['bearer-token']);
});

test('an allowlisted fake (by the exact sha256 of the matched text) is not reported, and counted', () => {
  const aws = secrets['aws-access-token'] as string;
  const state = newScan(new Budget(), new Set([sha256(aws)]));
  assert.deepEqual(scanRecord({ s: `AWS_ACCESS_KEY_ID=${aws}` }, state), []);
  assert.equal(state.allowlisted, 1);
});

test('entropy is Shannon bits per character', () => {
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('abcd'), 2);
  assert.equal(shannonEntropy(''), 0);
});

test('hostile strings finish well inside the budget (no catastrophic backtracking)', () => {
  const hostile: Record<string, string> = {
    'a@ ×100k': 'a@'.repeat(100_000),
    '200k digits': '7'.repeat(200_000),
    '? ×50k': '?'.repeat(50_000),
    'ey ×100k': 'ey'.repeat(100_000),
    'key= ×100k': 'key='.repeat(100_000),
    'sk- ×100k': 'sk-'.repeat(100_000),
    'nested parens': '('.repeat(50_000) + ')'.repeat(50_000),
    'PEM headers ×20k': '-----BEGIN RSA PRIVATE KEY-----'.repeat(20_000),
    'url creds ×50k': 'https://a:b@'.repeat(50_000),
    '[ ×100k': '['.repeat(100_000),
  };
  for (const [name, s] of Object.entries(hostile)) {
    const b = new Budget();
    const t0 = performance.now();
    scanRecord({ s }, newScan(b));
    const ms = performance.now() - t0;
    assert.equal(b.exhausted, false, `${name}: ${b.why}`);
    assert.ok(ms < 2000, `${name} took ${ms.toFixed(0)} ms`);
  }
});

test('running out of budget stops the scan and says where (the caller fails closed)', () => {
  const b = new Budget(10_000);
  scanRecord({ a: 'x'.repeat(6_000), b: 'y'.repeat(6_000) }, newScan(b));
  assert.equal(b.exhausted, true);
  assert.match(b.why, /^work budget of 10000 characters used up at /);
});

test('a seam scanned before is judged again where it splits: the same joined text reports a secret that now crosses it', () => {
  const gh = secrets['github-pat'] as string;
  const tail = ' was rotated yesterday, please confirm';
  // whole in the first message: reported there, not at the seam
  const whole = [
    { role: 'user', content: `my token is ${gh}` },
    { role: 'user', content: tail },
  ];
  assert.deepEqual(
    scan({ messages: whole }).map((h) => [h.rule, h.path]),
    [['github-pat', 'messages[0].content']],
  );
  // the same joined text, split inside the secret: reported at the seam
  const split = [
    { role: 'user', content: `my token is ${gh.slice(0, 20)}` },
    { role: 'user', content: `${gh.slice(20)}${tail}` },
  ];
  assert.deepEqual(
    scan({ messages: split }).map((h) => [h.rule, h.path]),
    [['github-pat', 'messages[0].content+messages[1].content']],
  );
});

test('a clean conversation scanned again costs the same work', () => {
  const messages = [
    {
      role: 'system',
      content: 'You are a helpful assistant for a bookshop; answer from the catalogue only.',
    },
    {
      role: 'user',
      content: 'Do you have the second volume of the history of the Byzantine empire in stock?',
    },
    {
      role: 'assistant',
      content: 'Yes, two copies are on the shelf; shall I put one aside for you until Friday?',
    },
  ];
  const spent = (): number => {
    const b = new Budget();
    assert.deepEqual(scanRecord({ messages }, newScan(b)), []);
    return b.spent;
  };
  const first = spent();
  assert.ok(first > 0);
  assert.equal(spent(), first);
  assert.equal(spent(), first);
});
