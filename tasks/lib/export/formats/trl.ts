import type { ChatMessage, ToolDef } from '../../../../schemas/chat.ts';
import type { KtoSample } from '../../../../schemas/kto-sample.ts';
import type { PreferenceSample } from '../../../../schemas/preference-sample.ts';
import type { SftSample } from '../../../../schemas/sft-sample.ts';
import { parseArgs } from '../messages.ts';

/**
 * Hugging Face TRL conversational rows (FORMATS.md): SFT `{messages, tools?}`, preference
 * `{prompt, chosen:[assistant], rejected:[assistant], tools?}`, KTO `{prompt, completion:[assistant],
 * label, tools?}`. Tool-call `arguments` is a JSON OBJECT here (chat templates iterate over it);
 * tool results carry the called function's `name`, which several chat templates print.
 * `withTools` adds the `tools` column to every row when any row of the export has tools.
 */

/** A conversation in TRL / transformers chat-template shape. */
export function trlMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  const names = new Map<string, string>();
  return messages.map((m) => {
    switch (m.role) {
      case 'system':
      case 'user':
        return { role: m.role, content: m.content };
      case 'tool': {
        const name = names.get(m.tool_call_id);
        return { role: 'tool', tool_call_id: m.tool_call_id, ...(name ? { name } : {}), content: m.content };
      }
      case 'assistant': {
        const calls = m.tool_calls ?? [];
        for (const c of calls) names.set(c.id, c.function.name);
        const out: Record<string, unknown> = { role: 'assistant', content: m.content ?? '' };
        if (calls.length > 0) {
          out['tool_calls'] = calls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.function.name, arguments: parseArgs(c.function.arguments) },
          }));
        }
        return out;
      }
    }
  });
}

function toolsColumn(withTools: boolean, tools: readonly ToolDef[] | undefined): { tools?: ToolDef[] } {
  return withTools ? { tools: [...(tools ?? [])] } : {};
}

/** An SftSample as a TRL conversational language-modeling row. */
export function trlSftRow(s: SftSample, withTools: boolean): Record<string, unknown> {
  return { messages: trlMessages(s.messages), ...toolsColumn(withTools, s.tools) };
}

/** A PreferenceSample as a TRL conversational preference row with an explicit prompt. */
export function trlPreferenceRow(p: PreferenceSample, withTools: boolean): Record<string, unknown> {
  return {
    prompt: trlMessages(p.prompt),
    chosen: [{ role: 'assistant', content: p.chosen.content }],
    rejected: [{ role: 'assistant', content: p.rejected.content }],
    ...toolsColumn(withTools, p.tools),
  };
}

/** A KtoSample as a TRL conversational unpaired-preference row. */
export function trlKtoRow(k: KtoSample, withTools: boolean): Record<string, unknown> {
  return {
    prompt: trlMessages(k.prompt),
    completion: [{ role: 'assistant', content: k.completion.content }],
    label: k.label,
    ...toolsColumn(withTools, k.tools),
  };
}
