import type { ChatMessage } from '../../../schemas/chat.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import { prepareConversation } from './conversation.ts';
import { hasText } from './messages.ts';
import { submittedPatch, substantiveAnswer, taskText, toSubstance } from './substance.ts';

/**
 * How a run becomes a retrieval document (docs/exports.md): the task, the steps that did the
 * work, the answer and, for a coding agent, the patch it submitted:
 *
 *     Task: <the user turn the model started working on>
 *
 *     Steps:
 *     1. <tool>(<arguments>) → <result, clipped>
 *
 *     Answer: <the human correction, else the last substantive assistant text>
 *
 *     Patch:
 *     <the unified diff of the run's last tool result>
 *
 * A trailing courtesy exchange is never the answer; a section with nothing to say is left out.
 * Pure.
 */

/** Longest tool argument / result text kept in a step; the rest is cut with a note of how much. */
export const STEP_CLIP_CHARS = 300;

/** Why a run gives no document (besides its category). */
export type RunDocumentDrop = 'NO_USER_TURN' | 'NO_SUBSTANCE';

export type RunDocumentOutcome =
  { type: 'keep'; text: string } | { type: 'drop'; reason: RunDocumentDrop; detail: string };

/** A text on one line, cut to `max` characters with a count of what was left out. */
export function clip(text: string, max = STEP_CLIP_CHARS): string {
  const one = text.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  let cut = max;
  const c = one.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--; // never split a surrogate pair
  return `${one.slice(0, cut)}… (${one.length - cut} more characters)`;
}

/** One line per tool call, with the result that answered it (when there is one). */
function steps(messages: readonly ChatMessage[], patch: string | null): string[] {
  const results = new Map<string, string>();
  for (const m of messages) if (m.role === 'tool') results.set(m.tool_call_id, m.content);
  const out: string[] = [];
  for (const m of messages) {
    if (m.role !== 'assistant') continue;
    for (const c of m.tool_calls ?? []) {
      const result = results.get(c.id);
      const shown =
        result === undefined
          ? ''
          : patch !== null && result.replace(/\r\n/g, '\n').includes(patch)
            ? ' → (the patch below)'
            : ` → ${hasText(result) ? clip(result) : '(no output)'}`;
      out.push(`${out.length + 1}. ${c.function.name}(${clip(c.function.arguments)})${shown}`);
    }
  }
  return out;
}

/** The document text of an accepted / partially accepted run, or why there is none. */
export function runDocumentText(run: ScoredRun): RunDocumentOutcome {
  // a conversation whose roles cannot be repaired still has its words: read it as it is
  const prepared = prepareConversation(run.run.messages);
  const all = prepared.type === 'keep' ? prepared.messages : run.run.messages;
  // the raw turns: a demonstration or environment turn sent before the task stays apart from it
  const task = taskText(run.run.messages);
  if (task === null)
    return { type: 'drop', reason: 'NO_USER_TURN', detail: 'no user message to state the task' };
  const work = toSubstance(all);
  const patch = submittedPatch(all);
  const answer =
    run.category === 'partially_accepted' && hasText(run.correction)
      ? run.correction
      : (substantiveAnswer(work)?.text ?? null);
  const stepLines = steps(all, patch);
  if (answer === null && stepLines.length === 0 && patch === null)
    return {
      type: 'drop',
      reason: 'NO_SUBSTANCE',
      detail:
        'no assistant turn does work (no tool call, no answer beyond a pleasantry), no correction and no patch',
    };
  const parts = [`Task: ${task.trim()}`];
  if (stepLines.length > 0) parts.push(`Steps:\n${stepLines.join('\n')}`);
  if (answer !== null) parts.push(`Answer: ${answer.trim()}`);
  if (patch !== null) parts.push(`Patch:\n${patch}`);
  return { type: 'keep', text: parts.join('\n\n') };
}
