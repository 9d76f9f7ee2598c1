import type { ChatMessage, ToolCall, ToolDef } from '../../schemas/chat.ts';
import { joinText, type Piece } from './content-parts.ts';

/**
 * Builds a canonical conversation from role-tagged pieces (see content-parts.ts), pairing tool
 * results with the calls they answer. Shared by every reader of vendor message lists so that the
 * same concept lands the same way whatever the source:
 * - a call without an id gets `call_<n>`, a result without one answers the oldest open call (flag
 *   `tool_call_id_synthesised`);
 * - results a user / model message carries become `tool` messages (OpenAI wants them right after
 *   the call, so a user message's own text follows them);
 * - reasoning that arrives on its own (a Responses `reasoning` item) waits for the next assistant
 *   turn; calls that arrive on their own (a `function_call` item) join the assistant turn just made.
 */

/** Canonical role of a vendor role name, or null for one we do not know. */
export function canonicalRole(role: unknown): 'system' | 'user' | 'assistant' | 'tool' | null {
  switch (role) {
    case 'system':
    case 'developer':
      return 'system';
    case 'user':
    case 'human':
      return 'user';
    case 'assistant':
    case 'model':
    case 'ai':
    case 'bot':
      return 'assistant';
    case 'tool':
    case 'function':
    case 'ipython':
      return 'tool';
    default:
      return null;
  }
}

export class Conversation {
  readonly messages: ChatMessage[] = [];
  readonly flags = new Set<string>();
  readonly tools: ToolDef[] = [];
  private open: string[] = [];
  private names = new Map<string, string>();
  private synthesised = 0;
  private pendingReasoning: string[] = [];
  /** Set when the last message came from a standalone item that later calls may join. */
  private joinable = false;

  callId(id: unknown): string {
    if (typeof id === 'string' && id !== '') return id;
    this.flags.add('tool_call_id_synthesised');
    return `call_${this.synthesised++}`;
  }

  resultId(id: unknown): string {
    if (typeof id === 'string' && id !== '') {
      this.open = this.open.filter((x) => x !== id);
      return id;
    }
    this.flags.add('tool_call_id_synthesised');
    return this.open.shift() ?? `call_${this.synthesised++}`;
  }

  /** The id of the oldest open call to a tool of this name, or null. */
  openCallNamed(name: string): string | null {
    for (const id of this.open) if (this.names.get(id) === name) return id;
    return null;
  }

  push(m: ChatMessage): void {
    if (m.role === 'assistant') {
      for (const c of m.tool_calls ?? []) {
        this.open.push(c.id);
        this.names.set(c.id, c.function.name);
      }
      if (this.pendingReasoning.length > 0 && m.reasoning === undefined) {
        m.reasoning = this.pendingReasoning.join('\n\n');
        this.pendingReasoning = [];
      }
    }
    this.messages.push(m);
    this.joinable = false;
  }

  addTool(t: ToolDef): void {
    if (!this.tools.some((x) => x.function.name === t.function.name)) this.tools.push(t);
  }

  /** Reasoning recorded apart from its turn: kept for the next assistant turn. */
  reasoning(text: string): void {
    if (text !== '') this.pendingReasoning.push(text);
  }

  /** Tool calls recorded apart from their turn: they join the assistant turn just made, else open one. */
  calls(calls: Array<{ id: string | null; name: string; args: string }>): void {
    const list: ToolCall[] = calls.map((c) => ({
      id: this.callId(c.id),
      type: 'function',
      function: { name: c.name, arguments: c.args },
    }));
    const last = this.messages.at(-1);
    if (last?.role === 'assistant' && this.joinable) {
      last.tool_calls = [...(last.tool_calls ?? []), ...list];
      for (const c of list) {
        this.open.push(c.id);
        this.names.set(c.id, c.function.name);
      }
    } else {
      this.push({ role: 'assistant', content: null, tool_calls: list });
    }
    this.joinable = true;
  }

  /** A message of one role made of pieces; `sep` joins its text pieces. */
  add(
    role: 'system' | 'user' | 'assistant' | 'tool',
    pieces: readonly Piece[],
    opts: { sep?: string; toolCallId?: unknown; joinable?: boolean } = {},
  ): void {
    const sep = opts.sep ?? '';
    const textPieces = pieces.filter((p) => p.kind === 'text') as Array<{ text: string; media?: true }>;
    const texts = textPieces.map((p) => p.text);
    const joined = joinText(textPieces, sep);
    const results = pieces.filter((p) => p.kind === 'result') as Array<Extract<Piece, { kind: 'result' }>>;
    const toolResults = (): void => {
      for (const r of results)
        this.push({ role: 'tool', tool_call_id: this.resultId(r.id), content: r.content });
    };
    if (role === 'system') {
      this.push({ role: 'system', content: joined });
      return;
    }
    if (role === 'user') {
      toolResults();
      if (texts.length > 0 || results.length === 0) this.push({ role: 'user', content: joined });
      return;
    }
    if (role === 'tool') {
      toolResults();
      if (texts.length > 0 || results.length === 0)
        this.push({ role: 'tool', tool_call_id: this.resultId(opts.toolCallId), content: joined });
      return;
    }
    const reasoning = pieces.filter((p) => p.kind === 'reasoning').map((p) => (p as { text: string }).text);
    const calls = pieces.filter((p) => p.kind === 'call') as Array<Extract<Piece, { kind: 'call' }>>;
    const m: ChatMessage = { role: 'assistant', content: texts.length > 0 ? joined : null };
    if (calls.length > 0)
      m.tool_calls = calls.map((c) => ({
        id: this.callId(c.id),
        type: 'function',
        function: { name: c.name, arguments: c.args },
      }));
    if (reasoning.length > 0) m.reasoning = reasoning.join(sep === '' ? '' : '\n\n');
    this.push(m);
    if (opts.joinable) this.joinable = true;
    toolResults(); // results a model message carries (rare) follow it
  }
}
