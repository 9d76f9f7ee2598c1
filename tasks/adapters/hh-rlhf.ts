import { z } from 'zod';
import type { ChatMessage } from '../../schemas/chat.ts';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';
import { taskKeyFor } from './task-key.ts';

/** An Anthropic HH-RLHF row: two whole transcripts that share everything before the last answer. */
const HhRow = z.object({ chosen: z.string(), rejected: z.string() });
const unknownFields = unknownFieldsCheck(Object.keys(HhRow.shape));

const ASSISTANT = '\n\nAssistant:';
const TURN = /\n\n(Human|Assistant):/g;

/** Splits a transcript at its last "\n\nAssistant:" into the dialogue before and the answer after. */
function splitLast(t: string): { prefix: string; answer: string } | null {
  const at = t.lastIndexOf(ASSISTANT);
  return at === -1 ? null : { prefix: t.slice(0, at), answer: t.slice(at + ASSISTANT.length).trim() };
}

/** "\n\nHuman: a\n\nAssistant: b\n\nHuman: c" → user / assistant turns; null when it does not start with a Human turn. */
export function parseDialogue(prefix: string): ChatMessage[] | null {
  const marks = [...prefix.matchAll(TURN)];
  const first = marks[0];
  if (!first || prefix.slice(0, first.index).trim() !== '' || first[1] !== 'Human') return null;
  return marks.map((m, i) => {
    const start = (m.index as number) + m[0].length;
    const end = i + 1 < marks.length ? ((marks[i + 1] as RegExpMatchArray).index as number) : prefix.length;
    const content = prefix.slice(start, end).trim();
    return m[1] === 'Human' ? { role: 'user' as const, content } : { role: 'assistant' as const, content };
  });
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
          detail: `$.${key}: has no "\\n\\nAssistant:" turn; expected a "\\n\\nHuman: ...\\n\\nAssistant: ..." transcript`,
        };
    }
    const c = chosen as { prefix: string; answer: string };
    const j = rejected as { prefix: string; answer: string };
    if (c.prefix.trim() !== j.prefix.trim()) {
      return {
        type: 'drop',
        reason: 'PREFERENCE_INVALID',
        detail:
          '$.rejected: its dialogue before the last "Assistant:" differs from chosen\'s; a pair must answer the same prompt',
      };
    }
    const prompt = parseDialogue(c.prefix);
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
          flags: unknownFields(row),
          judgment: { prompt, chosen: c.answer, rejected: j.answer, judge: null, strength: null },
        },
      ],
    };
  },
};
