import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { KtoSample } from '../../schemas/kto-sample.ts';
import type { PreferenceSample } from '../../schemas/preference-sample.ts';
import type { SftSample } from '../../schemas/sft-sample.ts';
import type { ChatMessage, ToolDef } from '../../schemas/chat.ts';
import { exportPreference } from '../../tasks/phases/export-preference/run.ts';
import { exportSft } from '../../tasks/phases/export-sft/run.ts';
import { splitOf } from '../../tasks/lib/export/split.ts';
import {
  editSignal,
  makeProject,
  mkJudgment,
  mkRun,
  readRows,
  writeEvidence,
  writeScored,
} from './fixture.ts';
import * as v from '../../tasks/gates/acceptance/format-validators.ts';

const weather: ToolDef = {
  type: 'function',
  function: {
    name: 'weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function toolRun(id: string, category: 'accepted' | 'rejected', task: string, city: string, answer: string) {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are a weather bot.' },
    { role: 'user', content: `Weather in ${city}?` },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: `call-${id}`,
          type: 'function',
          function: { name: 'weather', arguments: JSON.stringify({ city }) },
        },
      ],
    },
    { role: 'tool', tool_call_id: `call-${id}`, content: '{"temp_c": 3}' },
    { role: 'assistant', content: answer },
  ];
  return mkRun({ id, category, task, tools: [weather], messages });
}

/** A project with tool-using and plain runs over 12 tasks, both splits populated. */
async function fixtureProject() {
  const { root, config } = await makeProject({ test_fraction: 0.5 });
  const runs = [];
  for (let t = 0; t < 12; t++) {
    runs.push(toolRun(`w${t}-a`, 'accepted', `task-${t}`, `City${t}`, `It is 3°C in City${t}.`));
    runs.push(toolRun(`w${t}-r`, 'rejected', `task-${t}`, `City${t}`, 'No idea.'));
    runs.push(mkRun({ id: `p${t}-a`, category: 'accepted', task: `plain-${t}` }));
  }
  runs.push(
    mkRun({
      id: 'fix-1',
      category: 'partially_accepted',
      task: 'plain-0',
      answer: 'draft',
      correction: 'final',
      signals: [editSignal('fix-1', 'final')],
    }),
  );
  runs.push(mkRun({ id: 'solo-rej', category: 'rejected', task: 'solo', prompt: 'x?', answer: 'wrong' }));
  await writeScored(root, { 'runs.jsonl': runs });
  await writeEvidence(root, { 'j.jsonl': [mkJudgment('j1', 'Hi', 'Hello!', 'Go away.')] });
  await exportSft(root, config, { includePartial: false });
  await exportSft(root, config, { includePartial: true });
  await exportPreference(root, config);
  return root;
}

const assertAll = (rows: unknown[], check: (r: unknown) => string[], file: string) => {
  assert.ok(rows.length > 0, `${file} has rows to check`);
  rows.forEach((r, i) => assert.deepEqual(check(r), [], `${file} row ${i}`));
};

test('SFT format files follow FORMATS.md: OpenAI arguments are strings, TRL arguments are objects with a tools column', async () => {
  const root = await fixtureProject();
  for (const dir of ['exports/sft', 'exports/sft-partial']) {
    for (const split of ['train', 'test']) {
      assertAll(await readRows(root, `${dir}/openai/${split}`), v.openaiSft, `${dir}/openai/${split}`);
      assertAll(await readRows(root, `${dir}/trl/${split}`), (r) => v.trlSft(r, true), `${dir}/trl/${split}`);
      assertAll(
        await readRows(root, `${dir}/hf/data/${split}`),
        (r) => v.trlSft(r, true, ['id']),
        `${dir}/hf/data/${split}`,
      );
    }
  }
  const [oa] = (
    await readRows<{ messages: { tool_calls?: { function: { arguments: unknown } }[] }[] }>(
      root,
      'exports/sft/openai/train',
    )
  ).filter((r) => r.messages.some((m) => m.tool_calls));
  const [trl] = (
    await readRows<{ messages: { tool_calls?: { function: { arguments: unknown } }[] }[] }>(
      root,
      'exports/sft/trl/train',
    )
  ).filter((r) => r.messages.some((m) => m.tool_calls));
  assert.equal(typeof oa?.messages[2]?.tool_calls?.[0]?.function.arguments, 'string');
  assert.deepEqual(trl?.messages[2]?.tool_calls?.[0]?.function.arguments, {
    city: JSON.parse(oa?.messages[2]?.tool_calls?.[0]?.function.arguments as string).city,
  });
  // the validators catch the mix-up either way
  assert.deepEqual(
    v.openaiSft({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }],
        },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    }),
    ['messages[1].tool_calls[0]: arguments must be a JSON-encoded string'],
  );
  assert.deepEqual(
    v.trlSft(
      {
        id: 'sft_x',
        messages: [
          { role: 'user', content: 'q' },
          {
            role: 'assistant',
            content: '',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
        ],
        tools: [{ type: 'function', function: { name: 'f' } }],
      },
      true,
    ),
    ['messages[1].tool_calls[0]: arguments must be a JSON object, got string'],
  );
});

test('preference format files: OpenAI DPO outputs are arrays of one message, TRL chosen/rejected/completion are lists', async () => {
  const root = await fixtureProject();
  const dpo = [
    ...(await readRows(root, 'exports/preference/openai/train')),
    ...(await readRows(root, 'exports/preference/openai/test')),
  ];
  assertAll(dpo, v.openaiDpo, 'openai dpo');
  const pairs = await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected');
  const kto = await readRows<KtoSample>(root, 'exports/preference/unpaired_kto');
  const pairTools = pairs.some((p) => p.tools);
  const ktoTools = kto.some((k) => k.tools);
  for (const split of ['train', 'test']) {
    for (const [base, extra] of [
      ['trl', []],
      ['hf', ['id']],
    ] as const) {
      const pf = `exports/preference/${base}/preference/${split}`;
      const kf = `exports/preference/${base}/kto/${split}`;
      for (const r of await readRows(root, pf))
        assert.deepEqual(v.trlPreference(r, pairTools, [...extra]), [], pf);
      for (const r of await readRows(root, kf)) assert.deepEqual(v.trlKto(r, ktoTools, [...extra]), [], kf);
    }
  }
  assert.ok(kto.some((k) => k.run_id === 'solo-rej' && k.label === false));
  assert.deepEqual(
    v.openaiDpo({
      input: { messages: [{ role: 'user', content: 'q' }] },
      preferred_output: { role: 'assistant', content: 'a' },
      non_preferred_output: [{ role: 'assistant', content: 'b' }],
    }),
    ['preferred_output: must be an array of exactly one message'],
  );
});

test('the split field of every row matches the split file it is written to', async () => {
  const root = await fixtureProject();
  const check = async (canonical: string, hfDir: string) => {
    const splitOfId = new Map(
      (await readRows<{ id: string; split: string }>(root, canonical)).map((r) => [r.id, r.split]),
    );
    let seen = 0;
    for (const split of ['train', 'test']) {
      for (const r of await readRows<{ id: string }>(root, `${hfDir}/${split}`)) {
        assert.equal(splitOfId.get(r.id), split, `${r.id} in ${hfDir}/${split}`);
        seen++;
      }
    }
    assert.equal(seen, splitOfId.size, `${canonical}: every row is in exactly one split file`);
  };
  await check('exports/sft/instruction_response', 'exports/sft/hf/data');
  await check('exports/sft-partial/instruction_response', 'exports/sft-partial/hf/data');
  await check('exports/preference/chosen_rejected', 'exports/preference/hf/preference');
  await check('exports/preference/unpaired_kto', 'exports/preference/hf/kto');
  // the OpenAI / TRL split files hold the same rows in the same order
  const sft = await readRows<SftSample>(root, 'exports/sft/instruction_response');
  for (const split of ['train', 'test'] as const) {
    const trl = await readRows<{ messages: unknown[] }>(root, `exports/sft/trl/${split}`);
    assert.deepEqual(
      trl.map((r) => r.messages.length),
      sft.filter((s) => s.split === split).map((s) => s.messages.length),
    );
  }
});

test('splits are grouped by task_key: no task has rows in both splits, across SFT, pairs and KTO', async () => {
  const root = await fixtureProject();
  const rows = [
    ...(await readRows<SftSample>(root, 'exports/sft-partial/instruction_response')),
    ...(await readRows<PreferenceSample>(root, 'exports/preference/chosen_rejected')),
    ...(await readRows<KtoSample>(root, 'exports/preference/unpaired_kto')),
  ];
  const splitsByTask = new Map<string, Set<string>>();
  for (const r of rows) {
    const k = r.task_key as string;
    splitsByTask.set(k, (splitsByTask.get(k) ?? new Set()).add(r.split));
    assert.equal(r.split, splitOf(k, 0.5), k);
  }
  for (const [k, s] of splitsByTask) assert.equal(s.size, 1, `task ${k} is in ${[...s].join(' and ')}`);
  const used = new Set(rows.map((r) => r.split));
  assert.deepEqual([...used].sort(), ['test', 'train'], 'the fixture populates both splits');
  // plain-0 has an accepted run and a corrected partial run: both land together
  assert.equal(splitsByTask.get('plain-0')?.size, 1);
});

test('splitOf is a pure function of the key; 0 and 1 put everything in train / test', () => {
  assert.equal(splitOf('task-a', 0), 'train');
  assert.equal(splitOf('task-a', 1), 'test');
  assert.equal(splitOf('task-a', 0.5), splitOf('task-a', 0.5));
  const n = Array.from({ length: 1000 }, (_, i) => splitOf(`k${i}`, 0.1)).filter((s) => s === 'test').length;
  assert.ok(n > 60 && n < 140, `about 10% test, got ${n}`);
});

test('each HF dataset card lists train/test data_files that exist and hold the rows', async () => {
  const root = await fixtureProject();
  for (const [dir, expected] of [
    ['exports/sft/hf', { sft: ['train', 'test'] }],
    ['exports/sft-partial/hf', { sft_partial: ['train', 'test'] }],
    ['exports/preference/hf', { preference: ['train', 'test'], kto: ['train', 'test'] }],
  ] as const) {
    const readme = await fsp.readFile(join(root, dir, 'README.md'), 'utf8');
    const configs = v.cardConfigs(readme);
    const present = Object.fromEntries(Object.entries(configs).map(([k, s]) => [k, Object.keys(s)]));
    for (const [name, splits] of Object.entries(expected)) {
      // a split is listed only when it has rows
      const withRows = [];
      for (const s of splits)
        if (
          (await readRows(root, `${dir}/${name === 'sft' || name === 'sft_partial' ? 'data' : name}/${s}`))
            .length > 0
        )
          withRows.push(s);
      assert.deepEqual(present[name], withRows, `${dir} config ${name}`);
      // each listed path is the glob of the split's day shards, `<folder>/<split>/*.jsonl`
      for (const s of withRows) {
        const path = configs[name]?.[s] as string;
        assert.match(path, /^[a-z_]+\/(train|test)\/\*\.jsonl$/, `${dir} config ${name} ${s}`);
        assert.ok(existsSync(join(root, dir, path.slice(0, -'/*.jsonl'.length))), `${dir}: ${path} exists`);
      }
    }
    assert.match(readme, /^---\npretty_name: /);
    assert.match(readme, /\nsize_categories:\n- "n<1K"\n/);
  }
});
