import type { ChatMessage, RoleRepair, ToolCall } from '../../../schemas/chat.ts';
import { hasText } from './messages.ts';

/**
 * Role sequences every common chat template accepts. Templates differ (Llama 3 takes almost any
 * order; Mistral and Gemma raise on a system turn that is not first or on two user turns in a
 * row; OpenAI's API rejects a tool result that answers no call and a call whose result never
 * comes before the next turn), so an exported conversation keeps to what all of them take:
 *
 * - at most one system turn, first: later or repeated system turns are merged into it;
 * - then user first, and user / assistant alternate: consecutive user turns, and consecutive
 *   assistant turns, are merged; assistant turns before the first user turn are dropped;
 * - every tool result directly follows the assistant turn whose call it answers (after that
 *   turn's other results); every call of a turn is answered before the next user or assistant
 *   turn (only the conversation's last turn may end on unanswered calls: that is a call to train).
 *
 * Each change is a `RoleRepair` the row carries; what cannot be repaired without inventing or
 * moving content is a drop with a reason. Pure.
 */

export type { RoleRepair };

/** Why a conversation could not be brought into a valid order. */
export const ROLE_DROP_REASONS = ['TOOL_RESULT_ORPHAN', 'TOOL_RESULT_MISSING'] as const;
export type RoleDropReason = (typeof ROLE_DROP_REASONS)[number];

export type RoleOutcome =
  | { type: 'keep'; messages: ChatMessage[]; repairs: RoleRepair[] }
  | { type: 'drop'; reason: RoleDropReason; detail: string };

type Assistant = Extract<ChatMessage, { role: 'assistant' }>;

function joinText(a: string | null, b: string | null): string | null {
  if (!hasText(a)) return hasText(b) ? b : a === null ? b : a;
  if (!hasText(b)) return a;
  return `${a}\n\n${b}`;
}

function mergeAssistant(a: Assistant, b: Assistant): Assistant {
  const calls: ToolCall[] = [...(a.tool_calls ?? []), ...(b.tool_calls ?? [])];
  const out: Assistant = { role: 'assistant', content: joinText(a.content, b.content) };
  if (calls.length > 0) out.tool_calls = calls;
  return out;
}

/** Brings a conversation into the order above, or says why it cannot. */
export function repairRoles(messages: readonly ChatMessage[]): RoleOutcome {
  const system: string[] = [];
  const out: ChatMessage[] = [];
  const repairs: RoleRepair[] = [];
  let open = new Map<string, string>(); // unanswered call id → function name, of the last assistant turn
  let openSince = -1;
  let seenUser = false;
  let seenOther = false;
  const missing = (i: number): RoleOutcome => ({
    type: 'drop',
    reason: 'TOOL_RESULT_MISSING',
    detail: `messages[${openSince}] calls ${[...open.entries()].map(([id, name]) => `${name} ("${id}")`).join(', ')}, but messages[${i}] (${(messages[i] as ChatMessage).role}) comes before any result`,
  });
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ChatMessage;
    const last = out[out.length - 1];
    switch (m.role) {
      case 'system': {
        const text = m.content.trim();
        if (text === '') repairs.push({ code: 'DROP_EMPTY_TURN', at: i });
        else if (system.some((s) => s.trim() === text)) repairs.push({ code: 'DROP_REPEATED_SYSTEM', at: i });
        else {
          if (seenOther) repairs.push({ code: 'HOIST_SYSTEM', at: i });
          else if (system.length > 0) repairs.push({ code: 'MERGE_SYSTEM', at: i });
          system.push(m.content);
        }
        break;
      }
      case 'user': {
        seenOther = true;
        if (open.size > 0) return missing(i);
        if (!hasText(m.content)) {
          repairs.push({ code: 'DROP_EMPTY_TURN', at: i });
          break;
        }
        seenUser = true;
        if (last?.role === 'user') {
          out[out.length - 1] = { role: 'user', content: `${last.content}\n\n${m.content}` };
          repairs.push({ code: 'MERGE_USER', at: i });
        } else out.push(m);
        break;
      }
      case 'assistant': {
        seenOther = true;
        if (open.size > 0) return missing(i);
        const calls = m.tool_calls ?? [];
        if (!hasText(m.content) && calls.length === 0) {
          repairs.push({ code: 'DROP_EMPTY_TURN', at: i });
          break;
        }
        if (!seenUser) {
          repairs.push({ code: 'DROP_LEADING_ASSISTANT', at: i });
          break;
        }
        const turn: Assistant = { role: 'assistant', content: m.content };
        if (calls.length > 0) turn.tool_calls = calls;
        if (last?.role === 'assistant') {
          // the previous turn has no open calls (checked above), so its calls were all answered
          // before it... which means it had none: two assistant turns in a row become one
          out[out.length - 1] = mergeAssistant(last, turn);
          repairs.push({ code: 'MERGE_ASSISTANT', at: i });
        } else out.push(turn);
        open = new Map(calls.map((c) => [c.id, c.function.name]));
        openSince = i;
        break;
      }
      case 'tool': {
        seenOther = true;
        if (!open.has(m.tool_call_id)) {
          return {
            type: 'drop',
            reason: 'TOOL_RESULT_ORPHAN',
            detail: `messages[${i}] is a tool result for call "${m.tool_call_id}", which the assistant turn before it did not make (or which was answered already)`,
          };
        }
        open.delete(m.tool_call_id);
        out.push(m);
        break;
      }
    }
  }
  // one system text is kept exactly; merged ones are trimmed and joined by a blank line
  const merged = system.length === 1 ? (system[0] as string) : system.map((s) => s.trim()).join('\n\n');
  const head: ChatMessage[] = system.length > 0 ? [{ role: 'system', content: merged }] : [];
  return { type: 'keep', messages: [...head, ...out], repairs };
}
