import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '../../schemas/chat.ts';
import type { QuarantineRecord } from '../../schemas/quarantine-record.ts';
import type { ScoredRun } from '../../schemas/scored-run.ts';
import { cliInProcess as cli } from '../helpers/project.ts';
import { sha256 } from '../../tasks/lib/hash.ts';
import {
  makeProject,
  mkDocument,
  mkJudgment,
  mkRun,
  readRows,
  runEvidence,
  snapshot,
  writeEvidence,
  writeScored,
} from '../exports/fixture.ts';
import { fakeSecrets } from './fakes.ts';

const S = fakeSecrets(1234);
const PROTECTED_QUESTION =
  'A passenger holds two refundable economy tickets and wants to split one reservation so that only the return leg is cancelled, what is refunded';
const PROTECTED_SHORT = 'Which gate does flight HAT170 leave from';
const LONG =
  'Your order left our warehouse this morning and the carrier expects to deliver it within three business days; the tracking link in your shipping email shows every stop on the way and you can change the delivery address until it is out for delivery';
const PII: Record<string, string> = {
  EMAIL_ADDRESS: 'jordan.reyes12@example.com',
  PHONE_NUMBER: '+1 (212) 555-0187',
  CREDIT_CARD: '4111 1111 1111 1111',
  IBAN_CODE: 'DE89 3704 0044 0532 0130 00',
  IP_ADDRESS: '8.8.4.4',
};

const chat = (...turns: [ChatMessage['role'], string][]): ChatMessage[] =>
  turns.map(
    ([role, content]) =>
      (role === 'tool' ? { role, tool_call_id: 'c1', content } : { role, content }) as ChatMessage,
  );

/** Every canary of the fixture: the run or document id, the reason it must be quarantined for, and the strings that must never reach an export. */
interface Canary {
  id: string;
  reason: string;
  never: string[];
}

function fixture(): {
  runs: ScoredRun[];
  canaries: Canary[];
  evidence: ReturnType<typeof mkDocument | typeof mkJudgment>[];
} {
  const runs: ScoredRun[] = [];
  const canaries: Canary[] = [];
  // one run per secret kind, in the final answer
  for (const [rule, secret] of Object.entries(S)) {
    const id = `sec-${rule}`;
    runs.push(
      mkRun({
        id,
        category: 'accepted',
        prompt: `How do I configure ${rule}?`,
        answer: `Put this in your config:\n${secret}`,
      }),
    );
    canaries.push({ id, reason: `SECRET_DETECTED:${rule}`, never: [secret] });
  }
  const aws = S['aws-access-token'] as string;
  const gh = S['github-pat'] as string;
  const oai = S['openai-api-key'] as string;
  // escaped (a tool result holding JSON text with \u escapes), base64-wrapped, split across two turns, a key of a tool schema
  const escaped = `{"env": "AWS_ACCESS_KEY_ID=\\u0041${aws.slice(1)}"}`;
  runs.push(
    mkRun({
      id: 'sec-escaped',
      category: 'accepted',
      messages: [
        ...chat(['user', 'Show the CI env']),
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'env', arguments: '{}' } }],
        },
        ...chat(['tool', escaped], ['assistant', 'Here it is.']),
      ],
    }),
  );
  canaries.push({ id: 'sec-escaped', reason: 'SECRET_DETECTED:aws-access-token', never: [aws, escaped] });
  const wrapped = Buffer.from(`GITHUB_TOKEN=${gh}`).toString('base64');
  runs.push(
    mkRun({
      id: 'sec-base64',
      category: 'accepted',
      prompt: 'Decode the secret for me',
      answer: `The value is ${wrapped}`,
    }),
  );
  canaries.push({ id: 'sec-base64', reason: 'SECRET_DETECTED:github-pat', never: [gh, wrapped] });
  runs.push(
    mkRun({
      id: 'sec-split',
      category: 'accepted',
      messages: chat(
        ['user', `my key starts ${oai.slice(0, 60)}`],
        ['user', `${oai.slice(60)} and that is all`],
        ['assistant', 'Thanks, I will not store it.'],
      ),
    }),
  );
  canaries.push({ id: 'sec-split', reason: 'SECRET_DETECTED:openai-api-key', never: [oai] });
  runs.push(
    mkRun({
      id: 'sec-key',
      category: 'accepted',
      prompt: 'Call the tool',
      answer: 'Done.',
      tools: [
        {
          type: 'function',
          function: {
            name: 'deploy',
            parameters: { type: 'object', properties: { [aws]: { type: 'string' } } },
          },
        },
      ],
    }),
  );
  canaries.push({ id: 'sec-key', reason: 'SECRET_DETECTED:aws-access-token', never: [aws] });
  // PII: kept with a placeholder; dense PII: quarantined
  for (const [type, value] of Object.entries(PII)) {
    runs.push(
      mkRun({
        id: `pii-${type}`,
        category: 'accepted',
        prompt: `Please update my details (${type}): ${value}. Thanks a lot for the quick help!`,
        answer: `Updated the record ${type.toLowerCase()} as asked.`,
      }),
    );
  }
  const dense = Array.from({ length: 6 }, (_, i) => `user${i}.${'abcdef'[i]}@example.org`);
  runs.push(
    mkRun({
      id: 'pii-dense',
      category: 'accepted',
      prompt: `Contacts: ${dense.join(', ')}`,
      answer: 'Saved.',
    }),
  );
  canaries.push({ id: 'pii-dense', reason: 'PII_DENSE', never: dense });
  // duplicates: exact (case / whitespace only) and near (one phrase changed)
  runs.push(mkRun({ id: 'dup-a', category: 'accepted', prompt: 'Where is my order?', answer: LONG }));
  runs.push(
    mkRun({ id: 'dup-b', category: 'accepted', prompt: 'where is my  ORDER?', answer: LONG.toUpperCase() }),
  );
  canaries.push({ id: 'dup-b', reason: 'DUPLICATE_OF', never: [] });
  runs.push(
    mkRun({
      id: 'near-a',
      category: 'accepted',
      prompt: 'Where is my parcel?',
      answer: `${LONG} and thanks for waiting`,
    }),
  );
  runs.push(
    mkRun({
      id: 'near-b',
      category: 'accepted',
      prompt: 'Where is my parcel?',
      answer: `${LONG} and thanks for your patience`,
    }),
  );
  canaries.push({ id: 'near-b', reason: 'NEAR_DUPLICATE_OF', never: [] });
  // protected eval items copied into traces
  runs.push(
    mkRun({
      id: 'eval-copy',
      category: 'accepted',
      prompt: `Help me answer this: ${PROTECTED_QUESTION}?`,
      answer: 'The return leg is refunded to the original payment.',
    }),
  );
  canaries.push({ id: 'eval-copy', reason: 'EVAL_CONTAMINATION', never: [PROTECTED_QUESTION] });
  runs.push(
    mkRun({ id: 'eval-short', category: 'rejected', prompt: `${PROTECTED_SHORT}?`, answer: 'Gate 12.' }),
  );
  canaries.push({ id: 'eval-short', reason: 'EVAL_CONTAMINATION', never: [] });
  // clean runs that must survive (one task with an accepted and a rejected attempt)
  runs.push(
    mkRun({
      id: 'ok-acc',
      category: 'accepted',
      task: 'T',
      prompt: 'What is the refund window?',
      answer: 'Thirty days from delivery.',
    }),
  );
  runs.push(
    mkRun({
      id: 'ok-rej',
      category: 'rejected',
      task: 'T',
      prompt: 'What is the refund window?',
      answer: 'Ninety days, no questions.',
    }),
  );
  const evidence = [
    mkDocument('doc-ok', 'Returns', 'Items can be returned within thirty days.'),
    mkDocument('doc-secret', 'Deploy', `Use ${S['stripe-access-token']} for the payments sandbox.`),
    mkJudgment('j-ok', 'Greet the customer', 'Hello! How can I help?', 'What do you want?'),
    mkJudgment('j-eval', PROTECTED_QUESTION, 'Only the return leg.', 'Everything.'),
  ];
  canaries.push({
    id: evidence[1]?.evidence_id as string,
    reason: 'SECRET_DETECTED:stripe-access-token',
    never: [S['stripe-access-token'] as string],
  });
  canaries.push({ id: evidence[3]?.evidence_id as string, reason: 'EVAL_CONTAMINATION', never: [] });
  return { runs, canaries, evidence };
}

async function project(): Promise<{ root: string; canaries: Canary[]; runs: ScoredRun[] }> {
  const { root } = await makeProject({ test_fraction: 0.3 });
  const cfg = JSON.parse(await fsp.readFile(join(root, 'distill.config.json'), 'utf8'));
  cfg.eval_sets = ['eval/sets/*.jsonl'];
  await fsp.writeFile(join(root, 'distill.config.json'), JSON.stringify(cfg, null, 2));
  await fsp.mkdir(join(root, 'eval/sets'), { recursive: true });
  await fsp.writeFile(
    join(root, 'eval/sets/airline.jsonl'),
    `${JSON.stringify({ id: 'q-7', question: PROTECTED_QUESTION, answer: 'return leg' })}\n`,
  );
  await fsp.mkdir(join(root, 'test/fixtures/acceptance'), { recursive: true });
  await fsp.writeFile(
    join(root, 'test/fixtures/acceptance/tasks.jsonl'),
    `${JSON.stringify({
      messages: [
        { role: 'system', content: 'You are a helpful assistant for an airline.' },
        { role: 'user', content: PROTECTED_SHORT },
      ],
    })}\n`,
  );
  const { runs, canaries, evidence } = fixture();
  await writeScored(root, { '2024/05/01/runs.jsonl': runs });
  await writeEvidence(root, { '2024/05/01/ev.jsonl': [...runs.map(runEvidence), ...evidence] });
  return { root, canaries, runs };
}

async function allFiles(dir: string): Promise<Map<string, string>> {
  return existsSync(dir) ? snapshot(dir) : new Map();
}

test('canaries never reach any export and each is quarantined by screen with its reason; clean rows pass', async () => {
  const { root, canaries } = await project();
  const r = await cli(['screen', '--root', root]);
  assert.equal(r.code, 0, r.err);
  for (const phase of [
    ['export-rag'],
    ['export-sft'],
    ['export-sft', '--include-partial'],
    ['export-preference'],
  ]) {
    const e = await cli([...phase, '--root', root]);
    assert.equal(e.code, 0, `${phase.join(' ')}: ${e.err}`);
  }
  const q = await readRows<QuarantineRecord>(root, 'data/screened/_quarantine.jsonl');
  const byId = new Map(q.map((x) => [x.record_id, x]));
  for (const c of canaries) {
    const row = byId.get(c.id);
    assert.equal(row?.reason, c.reason, `${c.id}: ${JSON.stringify(row)}`);
    assert.equal(row?.stage, 'screen');
  }
  assert.equal(
    q.length,
    canaries.length,
    `unexpected quarantine rows: ${q.map((x) => `${x.record_id} ${x.reason}`).join(', ')}`,
  );
  assert.equal(byId.get('dup-b')?.ref, 'dup-a');
  assert.equal(byId.get('near-b')?.ref, 'near-a');
  assert.equal(byId.get('eval-copy')?.ref, 'eval/sets/airline.jsonl:1');
  assert.equal(byId.get('eval-short')?.ref, 'test/fixtures/acceptance/tasks.jsonl:1');
  assert.match(
    byId.get('sec-split')?.detail ?? '',
    /openai-api-key at run\.messages\[0\]\.content\+run\.messages\[1\]\.content\[\d+\.\.\d+\] \(sha256 [0-9a-f]{64}\)/,
  );
  assert.match(
    byId.get('sec-key')?.detail ?? '',
    /aws-access-token at run\.tools\[0\]\.function\.parameters\.properties\.<aws-access-token>~key\[0\.\.20\]/,
  );
  // no secret, canary value or raw PII value anywhere in exports/ or data/screened/ (quarantine files included)
  const files = new Map([
    ...(await allFiles(join(root, 'exports'))),
    ...[...(await allFiles(join(root, 'data/screened')))].map(([k, v]) => [`screened/${k}`, v] as const),
  ]);
  assert.ok(files.size > 20);
  const never = [...canaries.flatMap((c) => c.never), ...Object.values(S), ...Object.values(PII)];
  for (const [name, text] of files)
    for (const s of never) assert.ok(!text.includes(s), `${name} contains ${s.slice(0, 12)}…`);
  // PII rows are kept, redacted, and flagged; the receipt counts PII by type
  const screened = await readRows<ScoredRun>(root, 'data/screened/runs/2024/05/01/runs.jsonl');
  const pii = screened.filter((x) => x.run_id.startsWith('pii-'));
  assert.deepEqual(
    pii.map((x) => [x.run_id, x.flags, (x.run.messages[0] as { content: string }).content.split(': ')[1]]),
    Object.keys(PII)
      .sort()
      .map((t) => [`pii-${t}`, [`pii_redacted:${t}`], `<${t}>. Thanks a lot for the quick help!`]),
  );
  const receipt = JSON.parse(
    await fsp.readFile(join(root, 'reports/distillation/latest/screen.receipt.json'), 'utf8'),
  );
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(receipt.stats as Record<string, number>).filter(
        ([k, v]) => k.startsWith('pii.') && v > 0,
      ),
    ),
    {
      'pii.CREDIT_CARD': 1,
      'pii.EMAIL_ADDRESS': 1,
      'pii.IBAN_CODE': 1,
      'pii.IP_ADDRESS': 1,
      'pii.PHONE_NUMBER': 1,
      'pii.rows_redacted': 5,
    },
  );
  assert.deepEqual(
    receipt.counts.in,
    receipt.counts.out + receipt.counts.quarantined + receipt.counts.excluded,
  );
  // duplicates and eval copies are left out by policy (excluded); secrets and dense PII are quarantined
  assert.deepEqual(receipt.counts.excluded_by_reason, {
    DUPLICATE_OF: 1,
    EVAL_CONTAMINATION: 3,
    NEAR_DUPLICATE_OF: 1,
  });
  const reasons =
    '3 SECRET_DETECTED:aws-access-token, 2 SECRET_DETECTED:github-pat, 2 SECRET_DETECTED:openai-api-key, 2 SECRET_DETECTED:stripe-access-token, 1 PII_DENSE, ' +
    '1 SECRET_DETECTED:anthropic-api-key, 1 SECRET_DETECTED:anthropic-oauth-token, 1 SECRET_DETECTED:anthropic-refresh-token, 1 SECRET_DETECTED:gcp-api-key, 1 SECRET_DETECTED:generic-api-key, ' +
    '1 SECRET_DETECTED:github-fine-grained-pat, 1 SECRET_DETECTED:huggingface-access-token, 1 SECRET_DETECTED:jwt, 1 SECRET_DETECTED:private-key, 1 SECRET_DETECTED:slack-bot-token, 1 SECRET_DETECTED:slack-webhook-url';
  assert.ok(
    r.err.startsWith(
      `✔ screen: 33 runs + 2 documents + 2 judgments → 11 kept in data/screened/; 21 quarantined (${reasons}), 5 excluded by policy (3 EVAL_CONTAMINATION, 1 DUPLICATE_OF, 1 NEAR_DUPLICATE_OF); PII redacted in 5 rows (1 EMAIL_ADDRESS, 1 PHONE_NUMBER, 1 CREDIT_CARD, 1 IBAN_CODE, 1 IP_ADDRESS) (`,
    ),
    r.err,
  );
  // the clean runs made it all the way
  const sft = await readRows<{ run_id: string }>(root, 'exports/sft/instruction_response');
  assert.ok(
    sft.some((x) => x.run_id === 'ok-acc') &&
      sft.some((x) => x.run_id === 'pii-EMAIL_ADDRESS') &&
      sft.some((x) => x.run_id === 'dup-a') &&
      sft.some((x) => x.run_id === 'near-a'),
  );
  const pairs = await readRows<{ chosen_id: string; rejected_id: string }>(
    root,
    'exports/preference/chosen_rejected',
  );
  assert.ok(pairs.some((p) => p.chosen_id === 'ok-acc' && p.rejected_id === 'ok-rej'));
});

test('screen is deterministic: a rerun and a reversed, re-split input give byte-identical data/screened', async () => {
  const a = await project();
  // runs sorted as score writes them: (day file, run_id)
  const byDay = [...a.runs].sort((x, y) => (x.run_id < y.run_id ? -1 : 1));
  await writeScored(a.root, { '2024/05/01/runs.jsonl': byDay });
  const cold = await cli(['screen', '--root', a.root]);
  assert.equal(cold.code, 0);
  assert.match(cold.out + cold.err, /\(dedup cold: .*; 2 of 2 input files read, 0 of them from the cache;/);
  const first = await snapshot(join(a.root, 'data/screened'));
  // a rerun with nothing new takes every file from the last build
  const noop = await cli(['screen', '--root', a.root]);
  assert.equal(noop.code, 0);
  assert.match(noop.out + noop.err, /\(dedup nothing changed: .*; 0 of 2 input files read/);
  assert.deepEqual(await snapshot(join(a.root, 'data/screened')), first);
  // the per-file cache of steps 1–4, seen with the incremental path turned off (every unit re-decided)
  process.env['DISTILL_SCREEN_INCREMENTAL'] = '0';
  try {
    const warm = await cli(['screen', '--root', a.root]);
    assert.equal(warm.code, 0);
    const inputs = Number(
      /; (\d+) of \1 input files read, \1 of them from the cache/.exec(warm.out + warm.err)?.[1],
    );
    assert.ok(inputs >= 2, `screen read ${inputs} input files`);
    assert.deepEqual(await snapshot(join(a.root, 'data/screened')), first);
    // each input has two cache entries (its units, its kept records): with any one of them gone, that input is screened again
    const cacheDir = join(a.root, '.distill/cache/screen');
    const entries = (await fsp.readdir(cacheDir)).filter((f) => f.endsWith('.lines')).sort();
    assert.equal(entries.length, 2 * inputs);
    for (const gone of [entries[0], entries[entries.length - 1]] as string[]) {
      await fsp.rm(join(cacheDir, gone));
      const again = await cli(['screen', '--root', a.root]);
      assert.equal(again.code, 0);
      assert.match(
        again.out + again.err,
        new RegExp(`; ${inputs} of ${inputs} input files read, ${inputs - 1} of them from the cache`),
      );
      assert.deepEqual(await snapshot(join(a.root, 'data/screened')), first);
      assert.equal((await fsp.readdir(cacheDir)).filter((f) => f.endsWith('.lines')).length, 2 * inputs);
    }
  } finally {
    delete process.env['DISTILL_SCREEN_INCREMENTAL'];
  }
  const data = (m: Map<string, string>) => new Map([...m].filter(([k]) => k !== '_manifest.json'));
  const files = (m: Map<string, string>) => JSON.parse(m.get('_manifest.json') as string).files;
  // out of order within each file (the second file's runs all after the first's), then across
  // files (each sorted, the first holding the later half): the runs go through the sort, same bytes
  const layouts = (o: ScoredRun[]): Record<string, ScoredRun[]>[] => [
    { '2024/05/01/runs.jsonl': o.slice(0, 10).reverse(), '2024/05/02/runs.jsonl': o.slice(10).reverse() },
    { '2024/05/01/runs.jsonl': o.slice(10), '2024/05/02/runs.jsonl': o.slice(0, 10) },
  ];
  for (const layout of [0, 1]) {
    const b = await project();
    await writeScored(
      b.root,
      layouts([...b.runs].sort((x, y) => (x.run_id < y.run_id ? -1 : 1)))[layout] as Record<
        string,
        ScoredRun[]
      >,
    );
    const sorted = await cli(['screen', '--root', b.root]);
    assert.equal(sorted.code, 0);
    assert.match(
      sorted.out + sorted.err,
      /runs were not in \(day file, run_id\) order and were sorted/,
      `layout ${layout}`,
    );
    const second = await snapshot(join(b.root, 'data/screened'));
    assert.deepEqual(data(second), data(first));
    assert.deepEqual(files(second), files(first));
  }
});

test('the pre-publish rescan (secretlint and the screen detectors) fails an export that holds a secret: nothing is published; an allowlisted fake passes', async () => {
  const { root } = await makeProject();
  const gh = S['github-pat'] as string;
  // data/screened written directly (as if screen had missed it): the rescan must catch it
  await writeScored(root, {
    'runs.jsonl': [
      mkRun({
        id: 'leak',
        category: 'accepted',
        prompt: 'clone?',
        answer: `git clone https://${gh}@github.com/acme/x.git`,
      }),
    ],
  });
  const r = await cli(['export-sft', '--root', root]);
  assert.equal(r.code, 1);
  const hex = sha256(gh);
  assert.ok(
    r.err.includes(
      '✖ export-sft: pre-publish rescan (@secretlint/secretlint-rule-preset-recommend@11 and the screen detectors) found 8 secrets or raw personal data in the staged exports/sft/; nothing was published:\n' +
        ['hf/data/train/runs.jsonl', 'instruction_response/runs.jsonl', 'openai/train/runs.jsonl']
          .map(
            (f) =>
              `  exports/sft/${f}:1  screen:github-pat  (sha256 ${hex})\n  exports/sft/${f}:1  @secretlint/secretlint-rule-github  (sha256 ${hex})\n`,
          )
          .join('') +
        `  exports/sft/trl/train/runs.jsonl:1  screen:github-pat  (sha256 ${hex})\n`,
    ),
    r.err,
  );
  assert.ok(!r.err.includes(gh), 'the message never shows the secret');
  assert.equal(existsSync(join(root, 'exports/sft')), false);
  const cfg = JSON.parse(await fsp.readFile(join(root, 'distill.config.json'), 'utf8'));
  cfg.secret_allowlist = [hex];
  await fsp.writeFile(join(root, 'distill.config.json'), JSON.stringify(cfg));
  const ok = await cli(['export-sft', '--root', root]);
  assert.equal(ok.code, 0, ok.err);
});

test('distill scan prints hits per rule and PII type with field paths, never the secret; exit 1 on a secret', async () => {
  const { root } = await makeProject();
  const aws = S['aws-access-token'] as string;
  const rows = [
    {
      messages: [
        { role: 'user', content: `AWS_ACCESS_KEY_ID=${aws}` },
        { role: 'assistant', content: 'Mail ops@example.net about flight HAT170 (reservation ZFA04Y).' },
      ],
    },
    {
      messages: [{ role: 'user', content: 'nothing here, commit 3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345' }],
    },
  ];
  await fsp.writeFile(join(root, 'traces.jsonl'), rows.map((x) => JSON.stringify(x)).join('\n'));
  const r = await cli(['scan', join(root, 'traces.jsonl'), '--root', root]);
  assert.equal(r.code, 1, r.err);
  assert.ok(!r.out.includes(aws));
  assert.match(
    r.out,
    /^scanned 1 file, 2 records, \d+ characters \(secret rules 2026\.12\.1\)\nsecrets: 1 hit \(screen would quarantine the records\)\n/,
  );
  assert.match(r.out, /\n {2}aws-access-token +1 +1 {2}messages\[\*\]\.content ×1\n/);
  assert.ok(!/\n {2}generic-api-key /.test(r.out), 'rules without a hit are not listed');
  assert.match(r.out, /\n {2}\(\d+ more secret rules without a hit; --all lists them\)\n/);
  assert.match(r.out, /\n {2}EMAIL_ADDRESS +1 +1 {2}messages\[\*\]\.content ×1\n/);
  assert.ok(!/\n {2}PHONE_NUMBER /.test(r.out));
  const all = await cli(['scan', join(root, 'traces.jsonl'), '--all', '--root', root]);
  assert.match(all.out, /\n {2}generic-api-key +0 +0\n/);
  assert.match(all.out, /\n {2}PHONE_NUMBER +0 +0\n/);
  const clean = await cli(['scan', join(root, 'traces.jsonl'), '--json', '--root', root]);
  assert.equal(JSON.parse(clean.out).secrets['aws-access-token'].hits, 1);
  const none = await cli(['scan', '--root', root]);
  assert.equal(none.code, 2);
  assert.match(none.err, /scan takes one or more JSON \/ JSONL \/ \.traj files/);
});

test('a record the detectors cannot finish within its budget is quarantined DETECTOR_TIMEOUT, never kept', async () => {
  const { screenAll } = await import('../../tasks/phases/screen/core.ts');
  const { Budget } = await import('../../tasks/lib/safety/budget.ts');
  const { ProtectedIndex } = await import('../../tasks/lib/safety/decontaminate.ts');
  const big = mkRun({
    id: 'big',
    category: 'accepted',
    prompt: 'Summarise this log',
    answer: 'token '.repeat(5_000),
  });
  const small = mkRun({ id: 'small', category: 'accepted', prompt: 'Hi', answer: 'Hello!' });
  const res = screenAll(
    [
      { kind: 'run', record: big },
      { kind: 'run', record: small },
    ],
    { allow: new Set(), protectedIndex: new ProtectedIndex(), budget: () => new Budget(20_000) },
  );
  assert.deepEqual(
    res.kept.map((u) => (u.kind === 'run' ? u.record.run_id : '')),
    ['small'],
  );
  assert.deepEqual(
    res.drops.map((d) => [d.reason, d.detail.replace(/ at .*?;/, ' at …;')]),
    [
      [
        'DETECTOR_TIMEOUT',
        'work budget of 20000 characters used up at …; fail closed: a record the detectors could not finish is never passed as clean',
      ],
    ],
  );
});
