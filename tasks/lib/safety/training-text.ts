import type { ChatMessage } from '../../../schemas/chat.ts';
import type { DocumentBody, JudgmentBody } from '../../../schemas/evidence-record.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import { sha256 } from '../hash.ts';

/**
 * The training content of a unit, as the dedup and decontamination passes see it. A unit is a
 * scored run, a knowledge document or an imported judgment. `full` is everything a training row
 * is built from (for exact duplicates); `body` leaves out system turns, which are shared
 * boilerplate across every run of an app and would make them all look alike (for near-duplicates
 * and eval contamination); `pieces` are the separate texts checked for eval n-grams.
 */
export interface TrainingText {
  /** Dedup class: units are only ever duplicates of units of the same class. */
  cls: string;
  full: string;
  body: string;
  pieces: string[];
}

function messageLines(messages: readonly ChatMessage[], withSystem: boolean): string[] {
  const lines: string[] = [];
  for (const m of messages) {
    if (m.role === 'system' && !withSystem) continue;
    let line = `${m.role}: ${m.content ?? ''}`;
    if (m.role === 'assistant')
      for (const c of m.tool_calls ?? []) line += ` [call ${c.function.name} ${c.function.arguments}]`;
    lines.push(line);
  }
  return lines;
}

function messagePieces(messages: readonly ChatMessage[]): string[] {
  const out: string[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.content) out.push(m.content);
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) out.push(c.function.arguments);
  }
  return out;
}

/**
 * A run's training content: its conversation and its human correction. Its class is its
 * category: two runs with the same content but opposite outcomes are a contradiction for the
 * preference export to resolve, not a duplicate.
 */
export function runText(r: ScoredRun): TrainingText {
  const tail = r.correction ? [`correction: ${r.correction}`] : [];
  return {
    cls: `run:${r.category}`,
    full: [...messageLines(r.run.messages, true), ...tail].join('\n'),
    body: [...messageLines(r.run.messages, false), ...tail].join('\n'),
    pieces: [...messagePieces(r.run.messages), ...(r.correction ? [r.correction] : [])],
  };
}

/** A knowledge document's content: title and text. */
export function documentText(d: DocumentBody): TrainingText {
  const full = `${d.title}\n${d.text}`;
  return { cls: 'document', full, body: full, pieces: [d.title, d.text] };
}

/** A judgment's content: prompt, chosen and rejected answers. */
export function judgmentText(j: JudgmentBody): TrainingText {
  const tail = [`chosen: ${j.chosen}`, `rejected: ${j.rejected}`];
  return {
    cls: 'judgment',
    full: [...messageLines(j.prompt, true), ...tail].join('\n'),
    body: [...messageLines(j.prompt, false), ...tail].join('\n'),
    pieces: [...messagePieces(j.prompt), j.chosen, j.rejected],
  };
}

/** Content normalised for exact comparison: NFC, whitespace collapsed and trimmed, lowercase. */
export function normaliseTraining(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The exact-duplicate key of a unit (what screen's DUPLICATE_OF compares): sha256 of its class and normalised content. */
export function exactKey(u: { cls: string; full: string }): string {
  return sha256(`${u.cls}\u0000${normaliseTraining(u.full)}`);
}
