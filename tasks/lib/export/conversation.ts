import type { ChatMessage } from '../../../schemas/chat.ts';
import { hasText, invalidToolArgs, withoutReasoning } from './messages.ts';
import { repairRoles, type RoleDropReason, type RoleRepair } from './roles.ts';
import { substanceEnd } from './substance.ts';

/**
 * A run's conversation made ready for any training export: assistant reasoning removed, tool-call
 * arguments checked (every format needs a JSON object), roles brought into an order every common
 * chat template accepts (tasks/lib/export/roles.ts). Pure.
 */

/** Why a conversation cannot be exported at all. */
export type ConversationDropReason = 'TOOL_ARGS_INVALID' | RoleDropReason;

export type PreparedConversation =
  | { type: 'keep'; messages: ChatMessage[]; repairs: RoleRepair[] }
  | { type: 'drop'; reason: ConversationDropReason; detail: string };

/** Reasoning out, arguments checked, roles repaired; indexes in details refer to the run's own messages. */
export function prepareConversation(messages: readonly ChatMessage[]): PreparedConversation {
  const clean = messages.map(withoutReasoning);
  const bad = invalidToolArgs(clean);
  if (bad) return { type: 'drop', reason: 'TOOL_ARGS_INVALID', detail: bad };
  const r = repairRoles(clean);
  if (r.type === 'drop') return r;
  return { type: 'keep', messages: r.messages, repairs: r.repairs };
}

/**
 * The conversation with a human correction as its answer: the last substantive assistant turn
 * (else the last assistant turn) and everything after it replaced by one assistant turn holding the
 * correction. Null when there is no assistant turn to replace.
 */
export function withCorrection(messages: readonly ChatMessage[], correction: string): ChatMessage[] | null {
  let end = substanceEnd(messages);
  if (end < 0) end = messages.findLastIndex((m) => m.role === 'assistant');
  if (end < 0 || !hasText(correction)) return null;
  return [...messages.slice(0, end), { role: 'assistant', content: correction }];
}
