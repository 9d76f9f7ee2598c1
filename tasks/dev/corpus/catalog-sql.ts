import type { Rng } from './prng.ts';
import { fnTool, tag, type GatewayTask, type RawToolDef } from './task-spec.ts';

/** A natural-language analytics question with a correct and a subtly wrong PostgreSQL query. */
export interface SqlQuestion {
  question: string;
  good: string;
  bad: string;
  /** What the correct query returns (a small JSON table), and what the wrong one returns. */
  goodRows: string;
  badRows: string;
  summary: string;
}

const SCHEMAS = ['analytics', 'sales', 'warehouse', 'app', 'billing', 'reporting', 'shop_eu', 'shop_us'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'ES', 'IT', 'SE', 'PL', 'CA'];
const STATUSES = ['refunded', 'cancelled', 'shipped', 'pending', 'returned'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

function table(cols: string[], n: number, cell: (col: string, i: number) => unknown): string {
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => Object.fromEntries(cols.map((c) => [c, cell(c, i)]))),
  );
}

/** One analytics question drawn from a handful of templates and many parameter values. */
export function sqlQuestion(rng: Rng): SqlQuestion {
  const s = rng.pick(SCHEMAS);
  switch (rng.int(5)) {
    case 0: {
      const m = rng.range(1, 12);
      const y = rng.pick([2025, 2026]);
      const next = m === 12 ? `${y + 1}-01-01` : `${y}-${pad2(m + 1)}-01`;
      const base = rng.range(20_000, 90_000);
      return {
        question: `What was the total revenue per country for orders created in ${MONTHS[m - 1]} ${y}? Use ${s}.orders (amount_cents, customer_id, created_at) joined to ${s}.customers (id, country), highest first.`,
        good: `SELECT c.country, SUM(o.amount_cents) / 100.0 AS revenue\nFROM ${s}.orders o\nJOIN ${s}.customers c ON c.id = o.customer_id\nWHERE o.created_at >= DATE '${y}-${pad2(m)}-01' AND o.created_at < DATE '${next}'\nGROUP BY c.country\nORDER BY revenue DESC;`,
        bad: `SELECT c.country, SUM(o.amount_cents) / 100.0 AS revenue\nFROM ${s}.orders o\nJOIN ${s}.customers c ON c.id = o.customer_id\nWHERE EXTRACT(MONTH FROM o.created_at) = ${m}\nGROUP BY c.country\nORDER BY revenue DESC;`,
        goodRows: table(['country', 'revenue'], 3, (c, i) =>
          c === 'country' ? COUNTRIES[(m + i) % COUNTRIES.length] : base - i * 7_311.5,
        ),
        badRows: table(['country', 'revenue'], 3, (c, i) =>
          c === 'country' ? COUNTRIES[(m + i) % COUNTRIES.length] : (base - i * 7_311.5) * 2.4,
        ),
        summary: `The month filter uses a half-open date range so only ${MONTHS[m - 1]} ${y} is counted; revenue is converted from cents.`,
      };
    }
    case 1: {
      const k = rng.range(3, 20);
      const y = rng.pick([2024, 2025, 2026]);
      return {
        question: `List the top ${k} customers by number of orders placed in ${y}, from ${s}.orders (id, customer_id, created_at).`,
        good: `SELECT customer_id, COUNT(*) AS orders\nFROM ${s}.orders\nWHERE created_at >= DATE '${y}-01-01' AND created_at < DATE '${y + 1}-01-01'\nGROUP BY customer_id\nORDER BY orders DESC, customer_id\nLIMIT ${k};`,
        bad: `SELECT customer_id, COUNT(*) AS orders\nFROM ${s}.orders\nWHERE created_at >= DATE '${y}-01-01'\nGROUP BY customer_id\nLIMIT ${k};`,
        goodRows: table(['customer_id', 'orders'], 3, (c, i) =>
          c === 'customer_id' ? 1000 + k * 17 + i : 40 - i * 3,
        ),
        badRows: table(['customer_id', 'orders'], 3, (c, i) => (c === 'customer_id' ? 1000 + i : 2 + i)),
        summary: `Orders are counted per customer for ${y} only, sorted by count with a deterministic tie-break, limited to ${k}.`,
      };
    }
    case 2: {
      const n = rng.pick([7, 14, 28, 30, 90]);
      return {
        question: `Daily active users for the last ${n} days from ${s}.events (user_id, event_type, occurred_at)?`,
        good: `SELECT DATE(occurred_at) AS day, COUNT(DISTINCT user_id) AS dau\nFROM ${s}.events\nWHERE occurred_at >= CURRENT_DATE - INTERVAL '${n} days'\nGROUP BY day\nORDER BY day;`,
        bad: `SELECT DATE(occurred_at) AS day, COUNT(user_id) AS dau\nFROM ${s}.events\nWHERE occurred_at >= CURRENT_DATE - INTERVAL '${n} days'\nGROUP BY day\nORDER BY day;`,
        goodRows: table(['day', 'dau'], 2, (c, i) =>
          c === 'day' ? `2026-09-${pad2(20 + i)}` : 1_840 + i * 35,
        ),
        badRows: table(['day', 'dau'], 2, (c, i) =>
          c === 'day' ? `2026-09-${pad2(20 + i)}` : 23_115 + i * 410,
        ),
        summary: `Users are counted once per day (COUNT DISTINCT), over the last ${n} days.`,
      };
    }
    case 3: {
      const p = rng.pick(PRIORITIES);
      return {
        question: `Average time to resolve tickets in hours, per priority, from ${s}.tickets (priority, opened_at, closed_at)? I mostly care about "${p}".`,
        good: `SELECT priority, AVG(EXTRACT(EPOCH FROM closed_at - opened_at)) / 3600 AS avg_hours\nFROM ${s}.tickets\nWHERE closed_at IS NOT NULL\nGROUP BY priority\nORDER BY priority;`,
        bad: `SELECT priority, AVG(EXTRACT(HOUR FROM closed_at - opened_at)) AS avg_hours\nFROM ${s}.tickets\nGROUP BY priority;`,
        goodRows: table(['priority', 'avg_hours'], 2, (c, i) =>
          c === 'priority' ? PRIORITIES[i] : 31.5 - i * 9.25,
        ),
        badRows: table(['priority', 'avg_hours'], 2, (c, i) => (c === 'priority' ? PRIORITIES[i] : 7 - i)),
        summary:
          'Durations are taken in seconds (EXTRACT EPOCH) and divided by 3600, so tickets open longer than a day are counted correctly.',
      };
    }
    default: {
      const st = rng.pick(STATUSES);
      return {
        question: `Per month, what share of orders in ${s}.orders (status, created_at) had status '${st}'?`,
        good: `SELECT date_trunc('month', created_at) AS month,\n       AVG(CASE WHEN status = '${st}' THEN 1.0 ELSE 0 END) AS share\nFROM ${s}.orders\nGROUP BY month\nORDER BY month;`,
        bad: `SELECT date_trunc('month', created_at) AS month,\n       COUNT(*) FILTER (WHERE status = '${st}') / COUNT(*) AS share\nFROM ${s}.orders\nGROUP BY month\nORDER BY month;`,
        goodRows: table(['month', 'share'], 2, (c, i) =>
          c === 'month' ? `2026-0${7 + i}-01` : 0.043 + i * 0.006,
        ),
        badRows: table(['month', 'share'], 2, (c) => (c === 'month' ? '2026-07-01' : 0)),
        summary: 'The share is an average of a 1.0/0 indicator, which avoids integer division.',
      };
    }
  }
}

/** The `run_sql` tool offered to SQL assistants and agents. */
export const RUN_SQL: RawToolDef = fnTool(
  'run_sql',
  'Run a read-only SQL query against the analytics replica and return rows as JSON',
  {
    query: { type: 'string', description: 'One PostgreSQL SELECT statement' },
  },
);

const SYSTEM =
  'You are a data analyst assistant. Write PostgreSQL. Prefer explicit date ranges and deterministic ordering.';

/** A SQL-writing task (analytics copilot; explicit task key per question). */
export function sqlTask(rng: Rng): GatewayTask {
  const q = sqlQuestion(rng);
  const withTool = rng.chance(0.35);
  return {
    family: 'sql',
    app: 'analytics-copilot',
    taskKey: `analytics-copilot:q-${tag(q.question)}`,
    prompt: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: q.question },
    ],
    tools: withTool ? [RUN_SQL] : [],
    toolStep: withTool ? { name: 'run_sql', args: { query: q.good }, result: q.goodRows, exitCode: 0 } : null,
    good: `\`\`\`sql\n${q.good}\n\`\`\`\n\n${q.summary}`,
    flawed: `\`\`\`sql\n${q.bad}\n\`\`\`\n\nThis returns what you asked for.`,
    checks: ['human', 'auditor', 'reward'],
    suite: null,
    runner: 'psql',
    environment: 'sql-sandbox',
  };
}
