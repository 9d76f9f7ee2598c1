import type { ChatMessage, ToolDef } from '../../../../schemas/chat.ts';
import type { KtoSample } from '../../../../schemas/kto-sample.ts';
import type { PreferenceSample } from '../../../../schemas/preference-sample.ts';
import type { SftSample } from '../../../../schemas/sft-sample.ts';
import { parseArgs } from '../messages.ts';

/**
 * Hugging Face TRL conversational rows (TRL docs/source/dataset_formats.md): SFT `{id, messages,
 * tools?}`, preference `{id, prompt, chosen:[...], rejected:[...], tools?}`, KTO `{id, prompt,
 * completion:[...], label, tools?}`; a side or completion is a list of messages starting with an
 * assistant turn. Tool-call `arguments` is a JSON OBJECT here (chat templates iterate over it);
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

/** An SftSample as a TRL conversational language-modeling row (with its `id`: TRL keeps extra columns). */
export function trlSftRow(s: SftSample, withTools: boolean): Record<string, unknown> {
  return { id: s.id, messages: trlMessages(s.messages), ...toolsColumn(withTools, s.tools) };
}

/** A prompt and its continuations in TRL shape: tool results in a continuation name the call they answer. */
function continued(prompt: readonly ChatMessage[], rest: readonly ChatMessage[]): Record<string, unknown>[] {
  return trlMessages([...prompt, ...rest]).slice(prompt.length);
}

/**
 * A PreferenceSample as a TRL conversational preference row with an explicit prompt: `chosen` and
 * `rejected` are the rest of each conversation (TRL's DPOTrainer takes message lists with tool
 * calls and tool results; it computes the loss over every token of a side, tool results and any
 * later user turn included).
 */
export function trlPreferenceRow(p: PreferenceSample, withTools: boolean): Record<string, unknown> {
  return {
    id: p.id,
    prompt: trlMessages(p.prompt),
    chosen: continued(p.prompt, p.chosen),
    rejected: continued(p.prompt, p.rejected),
    ...toolsColumn(withTools, p.tools),
  };
}

/** A KtoSample as a TRL conversational unpaired-preference row. */
export function trlKtoRow(k: KtoSample, withTools: boolean): Record<string, unknown> {
  return {
    id: k.id,
    prompt: trlMessages(k.prompt),
    completion: continued(k.prompt, k.completion),
    label: k.label,
    ...toolsColumn(withTools, k.tools),
  };
}
