import type { ChatMessage, ToolDef } from '../../../../schemas/chat.ts';
import type { PreferenceSample } from '../../../../schemas/preference-sample.ts';
import type { SftSample } from '../../../../schemas/sft-sample.ts';

/**
 * OpenAI fine-tuning JSONL (FORMATS.md): SFT rows `{messages, tools?}` with tool-call `arguments`
 * as a JSON-encoded STRING; DPO rows `{input:{messages, tools?}, preferred_output:[assistant],
 * non_preferred_output:[assistant]}` with both outputs ARRAYS of one assistant message. Rows carry
 * no extra key (no `id`): the export writes a sidecar `<split>.ids.jsonl` mapping each line to
 * its row id instead.
 */

/** One message in OpenAI's shape: `content` left out of a tool-call-only assistant turn. */
export function openaiMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
    case 'assistant': {
      const calls = m.tool_calls ?? [];
      const out: Record<string, unknown> = { role: 'assistant' };
      if (m.content !== null || calls.length === 0) out['content'] = m.content ?? '';
      if (calls.length > 0) {
        out['tool_calls'] = calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.function.name, arguments: c.function.arguments },
        }));
      }
      return out;
    }
  }
}

function toolsOf(tools: readonly ToolDef[] | undefined): { tools?: ToolDef[] } {
  return tools && tools.length > 0 ? { tools: [...tools] } : {};
}

/** An SftSample as an OpenAI fine-tuning row. */
export function openaiSftRow(s: SftSample): Record<string, unknown> {
  return { messages: s.messages.map(openaiMessage), ...toolsOf(s.tools) };
}

/** True when a pair side is what OpenAI DPO can hold: exactly one assistant message with text and no tool call. */
function oneTextTurn(side: readonly ChatMessage[]): side is [Extract<ChatMessage, { role: 'assistant' }>] {
  const m = side[0];
  return (
    side.length === 1 &&
    m?.role === 'assistant' &&
    typeof m.content === 'string' &&
    m.content.trim() !== '' &&
    (m.tool_calls ?? []).length === 0
  );
}

/**
 * A PreferenceSample as an OpenAI DPO row, or null when OpenAI's DPO cannot hold it. Its guide
 * trains "on one-turn conversations for each example, where the preferred and non-preferred
 * messages need to be the last assistant message", text only: a side of several turns (tool
 * calls, tool results, further turns) has no place there, so such pairs are left out of openai/
 * (counted in the manifest as `openai_omitted`) and kept in the TRL and HF files.
 */
export function openaiDpoRow(p: PreferenceSample): Record<string, unknown> | null {
  if (!oneTextTurn(p.chosen) || !oneTextTurn(p.rejected)) return null;
  return {
    input: { messages: p.prompt.map(openaiMessage), ...toolsOf(p.tools) },
    preferred_output: [{ role: 'assistant', content: p.chosen[0].content }],
    non_preferred_output: [{ role: 'assistant', content: p.rejected[0].content }],
  };
}
