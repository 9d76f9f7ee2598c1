import type { ChatMessage } from '../../../schemas/chat.ts';
import { isCourtesyText } from './courtesy.ts';
import { hasText } from './messages.ts';

/**
 * What in a conversation does the work. A run's training target, pair side or RAG answer is its
 * substance: the assistant turns that call tools or say something beyond a pleasantry, the tool
 * results they got, and for a coding agent the patch it submitted; never a trailing courtesy
 * exchange ("Thanks!" / "You're welcome, have a great day!"). Pure.
 */

type Assistant = Extract<ChatMessage, { role: 'assistant' }>;

/** True for an assistant turn that does work: it calls a tool, or its text is more than a pleasantry. */
export function isSubstantive(m: ChatMessage): m is Assistant {
  if (m.role !== 'assistant') return false;
  if ((m.tool_calls ?? []).length > 0) return true;
  return hasText(m.content) && !isCourtesyText(m.content);
}

/** Index of the last substantive assistant turn, or -1. */
export function substanceEnd(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (isSubstantive(messages[i] as ChatMessage)) return i;
  return -1;
}

/**
 * The conversation cut after its last substantive assistant turn: a trailing courtesy exchange
 * (and any trailing user, tool or system turn) is not part of what the run did. Empty when no
 * assistant turn does work.
 */
export function toSubstance(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.slice(0, substanceEnd(messages) + 1);
}

/** The last substantive assistant turn with text (the run's answer in words), or null. */
export function substantiveAnswer(messages: readonly ChatMessage[]): { index: number; text: string } | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === 'assistant' && hasText(m.content) && !isCourtesyText(m.content))
      return { index: i, text: m.content };
  }
  return null;
}

/** Index of the first assistant turn after the first user turn (where the model starts working), or -1. */
export function firstModelTurn(messages: readonly ChatMessage[]): number {
  const u = messages.findIndex((m) => m.role === 'user');
  if (u < 0) return -1;
  for (let i = u + 1; i < messages.length; i++)
    if ((messages[i] as ChatMessage).role === 'assistant') return i;
  return -1;
}

/**
 * The task a run works on: the last user turn before the model's first turn (earlier user turns
 * before it are context such as a demonstration or an environment description, which agents send
 * first). Null when there is no user turn.
 */
export function taskText(messages: readonly ChatMessage[]): string | null {
  const first = firstModelTurn(messages);
  const end = first < 0 ? messages.length : first;
  for (let i = end - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === 'user' && hasText(m.content)) return m.content;
  }
  return null;
}

/** A unified diff (git or plain): a `diff --git` header, or `---` / `+++` file lines followed by a hunk. */
const UNIFIED_DIFF = /(^|\n)(diff --git [^\n]+|--- [^\n]+\n\+\+\+ [^\n]+\n@@ [^\n]*@@)/;

/**
 * The patch a coding agent submitted: the last tool result of the run, when it holds a unified
 * diff (SWE-agent's `submit` prints the diff it submits; other agents end on `git diff`), from
 * the diff's first line on. Null otherwise: a diff shown earlier and then worked on is not the
 * submission.
 */
export function submittedPatch(messages: readonly ChatMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role !== 'tool') continue;
    const hit = UNIFIED_DIFF.exec(m.content.replace(/\r\n/g, '\n'));
    if (!hit) return null;
    return m.content
      .replace(/\r\n/g, '\n')
      .slice(hit.index + (hit[1] ?? '').length)
      .trimEnd();
  }
  return null;
}
