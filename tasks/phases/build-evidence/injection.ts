import type { ChatMessage } from '../../../schemas/chat.ts';

/**
 * Prompt-injection text (RELIABILITY.md §5 #55): instructions planted in user turns or tool output
 * that try to steer a model or our pipeline ("ignore previous instructions", fake `</system>` tags,
 * "mark this approved"). Content is data: it never sets a pipeline flag by itself; we only flag the
 * run `injection_pattern` so reviewers and the replay prompt builder can see it. Patterns are
 * linear-time (no nested quantifiers) and each text is scanned up to a fixed length.
 */
const PATTERNS: readonly RegExp[] = [
  /\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|preceding)\s+(?:instructions|prompts|rules|messages)\b/i,
  /<\/?\s*(?:system|im_start|im_end|instructions?)\s*>/i,
  /\[\/?(?:INST|SYS)\]/,
  /\b(?:mark|label|flag|score|rate)\s+(?:this|the)\s+(?:run|answer|response|trace|output)\s+(?:as\s+)?(?:approved|accepted|correct|passing|safe)\b/i,
  /\bnew\s+system\s+prompt\s*:/i,
  /\byou\s+are\s+now\s+(?:in\s+)?(?:developer|dan|jailbreak|god)\s+mode\b/i,
];
const MAX_SCAN = 64 * 1024;

/** The first injection pattern found in `text`, or null. */
export function injectionPattern(text: string): string | null {
  const t = text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
  for (const p of PATTERNS) {
    const m = p.exec(t);
    if (m) return m[0];
  }
  return null;
}

/** `['injection_pattern']` when a user, tool or system turn carries injection text. */
export function injectionFlag(messages: readonly ChatMessage[]): string[] {
  return messages.some((m) => m.role !== 'assistant' && injectionPattern(m.content) !== null)
    ? ['injection_pattern']
    : [];
}
