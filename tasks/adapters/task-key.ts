import type { ChatMessage } from '../../schemas/chat.ts';
import { sha256 } from '../lib/hash.ts';

/** Normalises a prompt for keying: NFC, lowercase, whitespace collapsed and trimmed. */
export function normalisePrompt(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** `prompt:` + first 16 hex of sha256 of the normalised text; stable across attempts of one prompt. */
export function promptTaskKey(text: string): string {
  return `prompt:${sha256(normalisePrompt(text)).slice(0, 16)}`;
}

/**
 * The task key of a conversation: the explicit one when the source gives it, else derived from
 * the first user message; null when there is no user message to key on.
 */
export function taskKeyFor(
  explicit: string | null | undefined,
  messages: readonly ChatMessage[],
): string | null {
  if (explicit) return explicit;
  const firstUser = messages.find((m) => m.role === 'user');
  if (!firstUser || normalisePrompt(firstUser.content) === '') return null;
  return promptTaskKey(firstUser.content);
}
