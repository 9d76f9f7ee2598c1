import type { ChatMessage } from '../../schemas/chat.ts';
import type { SftSample } from '../../schemas/sft-sample.ts';

/**
 * Pure: held-out SFT rows → replay-eval tasks. The prompt is the conversation before the final
 * assistant turn; the recorded outcome is that turn's text.
 */

/** One held-out task. */
export interface EvalTask {
  /** The SFT row id. */
  id: string;
  runId: string;
  taskKey: string | null;
  family: string | null;
  /** The recorded application's system prompt(s), joined. */
  appSystem: string | null;
  /** What the model is asked: the user's message, or the conversation so far as a transcript. */
  task: string;
  /** The retrieval query: the user turns of the prompt. */
  query: string;
  /** The recorded final answer. */
  expected: string;
}

/** Why a held-out row could not become a task. */
export const EVAL_SKIP_REASONS = ['NO_FINAL_TEXT', 'NO_USER_TURN'] as const;
export type EvalSkipReason = (typeof EVAL_SKIP_REASONS)[number];

/**
 * The family of a task key: the key without its last `:` segment for structured keys
 * (`ide-assist:python:median:bb2129d7` → `ide-assist:python:median`, `analytics-copilot:q-1b45` →
 * `analytics-copilot`, `tau-bench:airline:task-503` → `tau-bench:airline`). A `prompt:` key is a
 * hash of the prompt text and says nothing about its kind, so it is its own family.
 */
export function taskFamily(key: string | null | undefined): string | null {
  if (!key) return null;
  if (key.startsWith('prompt:')) return key;
  const cut = key.lastIndexOf(':');
  return cut > 0 ? key.slice(0, cut) : key;
}

function render(m: ChatMessage): string {
  switch (m.role) {
    case 'user':
      return `[user] ${m.content}`;
    case 'assistant': {
      const calls = (m.tool_calls ?? []).map((c) => `${c.function.name}(${c.function.arguments})`);
      const text = m.content ?? '';
      return `[assistant] ${text}${calls.length > 0 ? `${text ? ' ' : ''}(tool calls: ${calls.join(', ')})` : ''}`;
    }
    case 'tool':
      return `[tool result ${m.tool_call_id}] ${m.content}`;
    case 'system':
      return `[system] ${m.content}`;
  }
}

/** One held-out row → a task, or why not. */
export function toEvalTask(
  row: SftSample,
): { type: 'keep'; task: EvalTask } | { type: 'drop'; reason: EvalSkipReason } {
  const last = row.messages[row.messages.length - 1];
  if (!last || last.role !== 'assistant' || !last.content || last.content.trim() === '')
    return { type: 'drop', reason: 'NO_FINAL_TEXT' };
  const prompt = row.messages.slice(0, -1);
  const system = prompt
    .filter((m) => m.role === 'system')
    .map((m) => m.content.trim())
    .filter((s) => s !== '');
  const turns = prompt.filter((m) => m.role !== 'system');
  const users = turns
    .filter((m): m is Extract<ChatMessage, { role: 'user' }> => m.role === 'user')
    .map((m) => m.content.trim());
  if (users.length === 0) return { type: 'drop', reason: 'NO_USER_TURN' };
  const only = turns.length === 1 && turns[0]?.role === 'user';
  const task = only
    ? (users[0] as string)
    : `The conversation so far:\n\n${turns.map(render).join('\n\n')}\n\nWrite the assistant's next reply.`;
  return {
    type: 'keep',
    task: {
      id: row.id,
      runId: row.run_id,
      taskKey: row.task_key,
      family: taskFamily(row.task_key),
      appSystem: system.length > 0 ? system.join('\n\n') : null,
      task,
      query: users.join('\n'),
      expected: last.content.trim(),
    },
  };
}

/** Held-out rows (split `test`) → tasks sorted by id, and skip counts by reason. */
export function evalTasks(rows: readonly SftSample[]): {
  tasks: EvalTask[];
  skipped: Record<string, number>;
} {
  const tasks: EvalTask[] = [];
  const skipped: Record<string, number> = {};
  for (const row of rows) {
    if (row.split !== 'test') continue;
    const out = toEvalTask(row);
    if (out.type === 'keep') tasks.push(out.task);
    else skipped[out.reason] = (skipped[out.reason] ?? 0) + 1;
  }
  tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { tasks, skipped };
}
