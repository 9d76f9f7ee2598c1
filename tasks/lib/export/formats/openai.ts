import type { ChatMessage, ToolDef } from '../../../../schemas/chat.ts';
import type { PreferenceSample } from '../../../../schemas/preference-sample.ts';
import type { SftSample } from '../../../../schemas/sft-sample.ts';

/**
 * OpenAI fine-tuning JSONL (FORMATS.md): SFT rows `{messages, tools?}` with tool-call `arguments`
 * as a JSON-encoded STRING; DPO rows `{input:{messages, tools?}, preferred_output:[assistant],
 * non_preferred_output:[assistant]}` with both outputs ARRAYS of one assistant message.
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

/** A PreferenceSample as an OpenAI DPO row. */
export function openaiDpoRow(p: PreferenceSample): Record<string, unknown> {
  return {
    input: { messages: p.prompt.map(openaiMessage), ...toolsOf(p.tools) },
    preferred_output: [{ role: 'assistant', content: p.chosen.content }],
    non_preferred_output: [{ role: 'assistant', content: p.rejected.content }],
  };
}
