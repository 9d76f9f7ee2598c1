import { z } from 'zod';
import type { ChatMessage } from '../../schemas/chat.ts';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';
import { taskKeyFor } from './task-key.ts';

/** An Anthropic HH-RLHF row: two whole transcripts that share everything before the last answer. */
const HhRow = z.object({ chosen: z.string(), rejected: z.string() });
const unknownFields = unknownFieldsCheck(Object.keys(HhRow.shape));

/**
 * A speaker label: "Human:" / "Assistant:" at the start of a line (the dataset mostly writes
 * "\n\nHuman:", but some transcripts start without the blank line, use one newline or indent the
 * label), or the abbreviated "H:" / "A:" after a blank line. Labels are turn boundaries and never
 * part of a turn's text.
 */
const LABEL = /(?:^|\n)[ \t]*(Human|Assistant):|\n\n(H|A):/g;

interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** A transcript → its turns; null when text comes before the first label. */
export function parseTurns(t: string): Turn[] | null {
  const marks = [...t.matchAll(LABEL)];
  const first = marks[0];
  if (!first || t.slice(0, first.index).trim() !== '') return null;
  return marks.map((m, i) => {
    const start = (m.index as number) + m[0].length;
    const end = i + 1 < marks.length ? ((marks[i + 1] as RegExpMatchArray).index as number) : t.length;
    const who = m[1] ?? m[2];
    return {
      role: who === 'Human' || who === 'H' ? 'user' : 'assistant',
      content: t.slice(start, end).trim(),
    };
  });
}

/** Splits a transcript at its last Assistant turn: the dialogue before, the answer, and any turns after it. */
function splitLast(t: string): { prompt: Turn[]; answer: string; after: number } | null {
  const turns = parseTurns(t);
  if (!turns) return null;
  let at = -1;
  turns.forEach((x, i) => {
    if (x.role === 'assistant') at = i;
  });
  if (at === -1) return null;
  return { prompt: turns.slice(0, at), answer: (turns[at] as Turn).content, after: turns.length - at - 1 };
}

/** "\n\nHuman: a\n\nAssistant: b\n\nHuman: c" → user / assistant turns; null when it does not start with a Human turn. */
export function parseDialogue(prefix: string): ChatMessage[] | null {
  const turns = parseTurns(prefix);
  if (!turns || turns[0]?.role !== 'user') return null;
  return turns.map((x) => ({ role: x.role, content: x.content }));
}

/**
 * Anthropic HH-RLHF preference pairs `{chosen, rejected}` (whole "\n\nHuman: ... \n\nAssistant: ..."
 * transcripts) → one judgment. Each side is split at its last "\n\nAssistant:"; the shared dialogue
 * before it becomes the prompt turns, the two final answers the chosen and rejected text. Sides
 * whose dialogues differ drop (PREFERENCE_INVALID), as do identical answers and empty ones.
 */
export const hhRlhf: Adapter = {
  name: 'hh-rlhf',
  description:
    'Anthropic HH-RLHF preference pairs: {chosen, rejected} transcripts ("\\n\\nHuman: ...\\n\\nAssistant: ...")',
  shape: 'jsonl',
  sniff(row) {
    const base = sniffByKeys(row, ['chosen', 'rejected'], 'hh-rlhf');
    if (base.confidence < 1) return base;
    const text = typeof row.chosen === 'string' ? row.chosen : '';
    if (!text.includes('Human:') || !text.includes('Assistant:'))
      return { confidence: 0.5, reason: 'has chosen / rejected, but not as Human: / Assistant: transcripts' };
    return { confidence: 1, reason: 'chosen / rejected transcripts with Human: / Assistant: turns' };
  },
  toEvidence(row): AdapterOutput {
    const read = readInput(HhRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const chosen = splitLast(r.chosen);
    const rejected = splitLast(r.rejected);
    for (const [key, side] of [
      ['chosen', chosen],
      ['rejected', rejected],
    ] as const) {
      if (!side)
        return {
          type: 'drop',
          reason: 'PREFERENCE_INVALID',
          detail: `$.${key}: has no "Assistant:" turn (or text before the first speaker label); expected a "\\n\\nHuman: ...\\n\\nAssistant: ..." transcript`,
        };
    }
    const c = chosen as { prompt: Turn[]; answer: string; after: number };
    const j = rejected as { prompt: Turn[]; answer: string; after: number };
    if (JSON.stringify(c.prompt) !== JSON.stringify(j.prompt)) {
      return {
        type: 'drop',
        reason: 'PREFERENCE_INVALID',
        detail:
          '$.rejected: its dialogue before the last "Assistant:" differs from chosen\'s; a pair must answer the same prompt',
      };
    }
    const prompt: ChatMessage[] | null =
      c.prompt[0]?.role === 'user' ? c.prompt.map((x) => ({ role: x.role, content: x.content })) : null;
    if (!prompt)
      return {
        type: 'drop',
        reason: 'PREFERENCE_INVALID',
        detail: '$.chosen: does not start with a "\\n\\nHuman:" turn',
      };
    for (const [key, side] of [
      ['chosen', c],
      ['rejected', j],
    ] as const) {
      if (side.answer === '')
        return {
          type: 'drop',
          reason: 'EMPTY_OUTPUT',
          detail: `$.${key}: the final Assistant turn is empty; a pair needs two answers`,
        };
    }
    if (c.answer === j.answer)
      return {
        type: 'drop',
        reason: 'PREFERENCE_IDENTICAL',
        detail: "$.rejected: its final answer is the same text as chosen's; the pair carries no preference",
      };
    return {
      type: 'keep',
      records: [
        {
          kind: 'judgment',
          trace_id: null,
          task_key: taskKeyFor(null, prompt),
          recorded_at: null, // HH-RLHF rows carry no timestamp
          // a side that goes on after its answer (a model that wrote the next Human turn itself)
          flags: [...unknownFields(row), ...(c.after + j.after > 0 ? ['turns_after_answer_dropped'] : [])],
          judgment: { prompt, chosen: c.answer, rejected: j.answer, judge: null, strength: null },
        },
      ],
    };
  },
};
