import type { Rng } from './prng.ts';
import { SNIPPETS } from './code-snippets.ts';
import { RUN_SQL, sqlQuestion } from './catalog-sql.ts';
import { ISSUE_REFUND, LOOKUP_ORDER, SUPPORT_SYSTEM, supportCase } from './catalog-support.ts';
import { fnTool, tag, type AgentTask, type ToolStep } from './task-spec.ts';

const REPOS = [
  'acme/billing-core',
  'acme/text-utils',
  'acme/etl-jobs',
  'acme/web-backend',
  'acme/search-service',
];

const REPO_TOOLS = [
  fnTool('search_code', 'Search the repository for a string', {
    query: { type: 'string', description: 'Text to search for' },
  }),
  fnTool('read_file', 'Read a file from the repository', {
    path: { type: 'string', description: 'Path relative to the repo root' },
  }),
  fnTool('apply_patch', 'Replace the contents of a file', {
    path: { type: 'string', description: 'File to change' },
    content: { type: 'string', description: 'New file contents' },
  }),
  fnTool('run_tests', 'Run pytest on a path and return the summary', {
    path: { type: 'string', description: 'Test file or directory' },
  }),
];

function diff(before: string, after: string): string {
  return [...before.split('\n').map((l) => `-${l}`), ...after.split('\n').map((l) => `+${l}`)].join('\n');
}

/** A coding agent fixing a failing test in a repository (explicit task key per issue). */
export function repoFixerTask(rng: Rng): AgentTask {
  const spec = rng.pick(SNIPPETS);
  const repo = rng.pick(REPOS);
  const pkg = repo.split('/')[1]?.replace(/-/g, '_') ?? 'pkg';
  const src = `src/${pkg}/${spec.fn}.py`;
  const test = `tests/test_${spec.fn}.py`;
  const total = rng.range(3, 12);
  const issue = 100 + (parseInt(tag(repo + spec.fn), 16) % 900);
  const search: ToolStep = {
    name: 'search_code',
    args: { query: `def ${spec.fn}` },
    result: `${src}:1: def ${spec.fn}(`,
  };
  const read: ToolStep = { name: 'read_file', args: { path: src }, result: spec.python.buggy };
  return {
    agent: 'repo-fixer',
    taskKey: `repo-fixer:${repo}#${issue}`,
    system:
      'You are an autonomous coding agent working in a git repository. Use the tools to inspect, change and test code. Make the smallest correct change.',
    user: `Issue #${issue} in ${repo}: \`${test}\` fails:\n\n    ${spec.symptom}\n\nFind the cause and fix it.`,
    tools: REPO_TOOLS,
    good: {
      steps: [
        search,
        read,
        {
          name: 'apply_patch',
          args: { path: src, content: spec.python.good },
          result: `Patched ${src}:\n${diff(spec.python.buggy, spec.python.good)}`,
        },
        {
          name: 'run_tests',
          args: { path: test },
          result: `${'.'.repeat(total)}\n${total} passed in 0.${rng.range(10, 99)}s`,
          exitCode: 0,
        },
      ],
      final: `Fixed \`${spec.fn}\` in ${src}: the old version failed on \`${spec.symptom.split(' (got')[0]}\`. All ${total} tests in ${test} pass.`,
    },
    bad: {
      steps: [
        search,
        read,
        {
          name: 'run_tests',
          args: { path: test },
          result: `F${'.'.repeat(total - 1)}\nFAILED ${test} - ${spec.symptom}\n1 failed, ${total - 1} passed`,
          exitCode: 1,
        },
      ],
      final: `I looked at \`${spec.fn}\`; the failure looks flaky and unrelated to the code, so I left it unchanged.`,
    },
    checks: ['human', 'auditor', 'tests', 'reward'],
    suite: test,
    runner: 'pytest',
    environment: 'swe-sandbox',
  };
}

/** A data agent answering an analytics question with `run_sql` (key derived from the prompt). */
export function sqlAnalystTask(rng: Rng): AgentTask {
  const q = sqlQuestion(rng);
  return {
    agent: 'sql-analyst',
    taskKey: null,
    system:
      'You are a data analyst agent. Query the replica with run_sql, then answer in plain language with the numbers.',
    user: q.question,
    tools: [RUN_SQL],
    good: {
      steps: [{ name: 'run_sql', args: { query: q.good }, result: q.goodRows, exitCode: 0 }],
      final: `Here are the results:\n\n${q.goodRows}\n\n${q.summary}`,
    },
    bad: {
      steps: [{ name: 'run_sql', args: { query: q.bad }, result: q.badRows, exitCode: 0 }],
      final: `Here are the results:\n\n${q.badRows}`,
    },
    checks: ['human', 'auditor', 'reward'],
    suite: null,
    runner: 'psql',
    environment: 'sql-sandbox',
  };
}

/** A support agent with order lookup and refunds (key derived from the prompt). */
export function supportAgentTask(rng: Rng, extraUserText: string): AgentTask {
  const c = supportCase(rng);
  const lookup: ToolStep = {
    name: 'lookup_order',
    args: { order_id: c.orderId },
    result: JSON.stringify({
      order_id: c.orderId,
      ...(c.lookup ?? { status: 'delivered', carrier: 'UPS', eta: null }),
    }),
  };
  const refund = (cents: number): ToolStep => ({
    name: 'issue_refund',
    args: { order_id: c.orderId, amount_cents: cents },
    result: JSON.stringify({ refund_id: `rf_${tag(c.orderId)}`, status: 'pending' }),
  });
  return {
    agent: 'support-agent',
    taskKey: null,
    system: SUPPORT_SYSTEM,
    user: c.message + extraUserText,
    tools: [LOOKUP_ORDER, ISSUE_REFUND],
    good: { steps: c.refundCents !== null ? [lookup, refund(c.refundCents)] : [lookup], final: c.good },
    bad: {
      steps: c.intent === 'refund' ? [lookup, refund(rng.range(10, 300) * 100)] : [lookup],
      final: c.flawed,
    },
    checks: ['human', 'auditor', 'reward'],
    suite: null,
    runner: null,
    environment: 'support-sim',
  };
}
