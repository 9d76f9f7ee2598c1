import type { Rng } from './prng.ts';
import { SNIPPETS, camel } from './code-snippets.ts';
import { tag, type GatewayTask } from './task-spec.ts';

const LANGS = [
  { id: 'python', label: 'Python', fence: 'python', runner: 'pytest' },
  { id: 'typescript', label: 'TypeScript', fence: 'ts', runner: 'vitest' },
] as const;

const ASKS = [
  'Write a {lang} function `{fn}` that {desc}.',
  'I need `{fn}` in {lang}: a function that {desc}.',
  'Implement {fn} in {lang}. It {desc}.',
  '{lang} question: how would you write `{fn}`, which {desc}?',
  'Could you give me a {lang} implementation of `{fn}`? It {desc}.',
];

const EXTRAS = [
  '',
  ' Please add type hints.',
  ' Keep it dependency-free.',
  ' Include a short docstring or comment.',
  ' It runs on large inputs, so keep it linear.',
  ' It is for a code review, so keep it readable.',
  ' Raise a clear error on invalid input.',
  ' Our style guide forbids one-letter names except loop indices.',
];

const SYSTEM =
  'You are a senior software engineer helping inside an IDE. Answer with one code block and a short explanation.';

/** A coding-help task (IDE assistant; the plugin sets an explicit task key). */
export function codingTask(rng: Rng): GatewayTask {
  const spec = rng.pick(SNIPPETS);
  const lang = rng.pick(LANGS);
  const fn = lang.id === 'python' ? spec.fn : camel(spec.fn);
  const ask =
    rng.pick(ASKS).replace('{lang}', lang.label).replace('{fn}', fn).replace('{desc}', spec.desc) +
    rng.pick(EXTRAS);
  const code = lang.id === 'python' ? spec.python : spec.typescript;
  const good = `Here is an implementation:\n\n\`\`\`${lang.fence}\n${code.good}\n\`\`\`\n\nIt handles the edge cases (empty input, repeated calls) and runs in linear time apart from any sorting the spec requires.`;
  const flawed = `Sure:\n\n\`\`\`${lang.fence}\n${code.buggy}\n\`\`\`\n\nThis should cover all cases.`;
  const suite = lang.id === 'python' ? `tests/test_${spec.fn}.py` : `src/${fn}.test.ts`;
  return {
    family: 'coding',
    app: 'ide-assist',
    taskKey: `ide-assist:${lang.id}:${spec.fn}:${tag(ask)}`,
    prompt: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: ask },
    ],
    tools: [],
    toolStep: null,
    good,
    flawed,
    checks: ['human', 'auditor', 'tests'],
    suite,
    runner: lang.runner,
    environment: null,
  };
}
