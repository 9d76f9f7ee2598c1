import type { ChatMessage, ToolCall } from '../../../schemas/chat.ts';
import { canonicalJson } from '../hash.ts';
import { normaliseForCompare } from './messages.ts';
import { isSubstantive } from './substance.ts';
import type { PairRefusal } from '../../phases/export-preference/contract.ts';

/**
 * How two conversations become one preference pair. A pair is only true when both sides answer
 * the same context: the prompt is exactly the opening the two conversations share (their longest
 * common prefix, which must reach at least through the first user turn), and chosen / rejected
 * are the rest of EACH OWN conversation from there, as message lists (tool calls and results
 * included). Refused: two dialogues that share no opening (different tasks, or a simulated user
 * who spoke differently), conversations that part at a user or tool turn (the input differed, not
 * the model's choice), one conversation that merely continues the other, and two sides that are
 * both only pleasantries. The same rule holds for every pair source: outcome pairs, human
 * corrections (the run vs the run with the correction as its answer) and imported judgments (the
 * judged prompt plus either answer). Pure.
 */

export type SplitOutcome =
  | { type: 'keep'; prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] }
  | { type: 'drop'; reason: PairRefusal; detail: string };

function sameArgs(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * True when two messages are the same turn. Tool-call ids are opaque and differ between runs, so
 * calls compare by function and arguments, and a tool result by the call it answers (`ids` maps
 * the second conversation's call ids to the first's, filled as the prefix is walked).
 */
function sameTurn(a: ChatMessage, b: ChatMessage, ids: Map<string, string>): boolean {
  if (a.role !== b.role) return false;
  switch (a.role) {
    case 'system':
    case 'user':
      return a.content === b.content;
    case 'tool': {
      const t = b as Extract<ChatMessage, { role: 'tool' }>;
      return a.content === t.content && a.tool_call_id === (ids.get(t.tool_call_id) ?? t.tool_call_id);
    }
    case 'assistant': {
      const x = b as Extract<ChatMessage, { role: 'assistant' }>;
      const ca = a.tool_calls ?? [];
      const cb = x.tool_calls ?? [];
      if ((a.content ?? '') !== (x.content ?? '') || ca.length !== cb.length) return false;
      return ca.every((c, i) => {
        const d = cb[i] as ToolCall;
        return c.function.name === d.function.name && sameArgs(c.function.arguments, d.function.arguments);
      });
    }
  }
}

/** Length of the common opening of two conversations, and the map of b's call ids to a's within it. */
export function sharedPrefix(
  a: readonly ChatMessage[],
  b: readonly ChatMessage[],
): { length: number; ids: Map<string, string> } {
  const ids = new Map<string, string>();
  let k = 0;
  for (; k < a.length && k < b.length; k++) {
    const x = a[k] as ChatMessage;
    const y = b[k] as ChatMessage;
    if (!sameTurn(x, y, ids)) break;
    if (x.role === 'assistant' && y.role === 'assistant')
      (y.tool_calls ?? []).forEach((c, i) => ids.set(c.id, (x.tool_calls ?? [])[i]?.id ?? c.id));
  }
  return { length: k, ids };
}

/** The second side's messages with its call ids mapped to the prompt's, and any id the prompt already uses renamed. */
function renameIds(
  messages: readonly ChatMessage[],
  ids: Map<string, string>,
  taken: Set<string>,
): ChatMessage[] {
  const own = new Map(ids);
  const fresh = (id: string): string => {
    let out = `${id}~r`;
    while (taken.has(out)) out += 'r';
    return out;
  };
  return messages.map((m) => {
    if (m.role === 'assistant' && m.tool_calls) {
      const calls = m.tool_calls.map((c) => {
        const id = own.get(c.id) ?? (taken.has(c.id) ? fresh(c.id) : c.id);
        own.set(c.id, id);
        return { ...c, id };
      });
      return { ...m, tool_calls: calls };
    }
    if (m.role === 'tool') return { ...m, tool_call_id: own.get(m.tool_call_id) ?? m.tool_call_id };
    return m;
  });
}

/** A conversation compared for "identical": call ids left out, texts normalised. */
export function conversationKey(messages: readonly ChatMessage[]): string {
  const order = new Map<string, number>();
  return canonicalJson(
    messages.map((m) => {
      if (m.role === 'assistant')
        return {
          role: m.role,
          content: normaliseForCompare(m.content ?? ''),
          calls: (m.tool_calls ?? []).map((c) => {
            order.set(c.id, order.size);
            let args: unknown = c.function.arguments;
            try {
              args = JSON.parse(c.function.arguments);
            } catch {
              // compared as the string it is
            }
            return { name: c.function.name, args };
          }),
        };
      if (m.role === 'tool')
        return {
          role: m.role,
          call: order.get(m.tool_call_id) ?? -1,
          content: normaliseForCompare(m.content),
        };
      return { role: m.role, content: normaliseForCompare(m.content) };
    }),
  );
}

/** The opening a pair must share: everything before the model's first turn after the first user turn. */
export function openingKey(messages: readonly ChatMessage[]): string | null {
  const u = messages.findIndex((m) => m.role === 'user');
  if (u < 0) return null;
  const end = messages.findIndex((m, i) => i > u && m.role === 'assistant');
  return conversationKey(messages.slice(0, end < 0 ? messages.length : end));
}

const roleAt = (c: readonly ChatMessage[], k: number): string => c[k]?.role ?? 'nothing (it ends)';

/**
 * Splits two conversations (each already role-repaired and cut to its substance) into the prompt
 * they share and the two continuations, or says why they are not a pair.
 */
export function splitPair(chosen: readonly ChatMessage[], rejected: readonly ChatMessage[]): SplitOutcome {
  const { length: k, ids } = sharedPrefix(chosen, rejected);
  const prompt = chosen.slice(0, k);
  const c = chosen.slice(k);
  const taken = new Set(
    prompt.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []).map((x) => x.id) : [])),
  );
  for (const m of c) if (m.role === 'assistant') for (const x of m.tool_calls ?? []) taken.add(x.id);
  const r = renameIds(rejected.slice(k), ids, taken);
  if (c.length === 0 && r.length === 0)
    return {
      type: 'drop',
      reason: 'IDENTICAL_TEXT',
      detail: `the two conversations are the same ${k} messages`,
    };
  if (conversationKey(c) === conversationKey(r))
    return {
      type: 'drop',
      reason: 'IDENTICAL_TEXT',
      detail: `after the ${k} shared message${k === 1 ? '' : 's'} both sides say the same (up to whitespace)`,
    };
  if (!prompt.some((m) => m.role === 'user'))
    return {
      type: 'drop',
      reason: 'NO_SHARED_PROMPT',
      detail: `the conversations share ${k === 0 ? 'no opening message' : `only their first ${k} message${k === 1 ? '' : 's'}`}, not the first user turn: they are different dialogues`,
    };
  if (c.length === 0 || r.length === 0)
    return {
      type: 'drop',
      reason: 'NO_DIVERGENCE',
      detail: `the ${c.length === 0 ? 'chosen' : 'rejected'} conversation ends where the other goes on (after ${k} shared messages): nothing of its own to prefer`,
    };
  if (c[0]?.role !== 'assistant' || r[0]?.role !== 'assistant')
    return {
      type: 'drop',
      reason: 'PARTED_BY_INPUT',
      detail: `the conversations part at message ${k} with a ${roleAt(c, 0)} turn (chosen) and a ${roleAt(r, 0)} turn (rejected): the input differed there, not the model's choice`,
    };
  if (!c.some(isSubstantive) && !r.some(isSubstantive))
    return {
      type: 'drop',
      reason: 'COURTESY_ONLY',
      detail: 'both sides are only pleasantries: there is nothing to prefer',
    };
  return { type: 'keep', prompt, chosen: c, rejected: r };
}
