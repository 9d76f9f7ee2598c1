import { createCompoundSchema } from 'genson-js';
import type { ChatMessage, ToolDef } from '../../../schemas/chat.ts';

/**
 * The tools a training row declares: every tool the source offered (its own definitions, in its
 * order), plus, for each function the conversation calls that the source did not define, a
 * definition DERIVED from its calls: the name and a JSON Schema of the argument objects seen
 * (types merged over every call; `required` = the keys present in all of them), inferred with
 * genson-js. A derived definition says so in its description, and the row lists its name in
 * `derived_tools`, so nobody mistakes it for the schema the model was given. A model is then never
 * trained to call a function the row does not declare. Pure.
 */

/** The description of a derived definition (no timestamps or counts that change with unrelated rows). */
export function derivedDescription(calls: number): string {
  return `Derived by distill from ${calls} call${calls === 1 ? '' : 's'} in this row: the source recorded no definition of this tool, so the parameters are the JSON Schema of the arguments seen.`;
}

/** The declared tools of a row and the names among them that were derived from calls. */
export interface DeclaredTools {
  tools: ToolDef[];
  derived: string[];
}

/** Function names called in the conversations, in order of first call, with their parsed argument objects. */
function callsByName(conversations: readonly (readonly ChatMessage[])[]): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const messages of conversations)
    for (const m of messages) {
      if (m.role !== 'assistant') continue;
      for (const c of m.tool_calls ?? []) {
        let args: unknown;
        try {
          args = JSON.parse(c.function.arguments);
        } catch {
          args = {}; // exporters drop rows with unparsable arguments first (TOOL_ARGS_INVALID)
        }
        const list = out.get(c.function.name);
        if (list) list.push(args);
        else out.set(c.function.name, [args]);
      }
    }
  return out;
}

/** The source's tools plus a derived definition for every called function they do not define. */
export function declaredTools(
  source: readonly ToolDef[],
  conversations: readonly (readonly ChatMessage[])[],
): DeclaredTools {
  const known = new Set(source.map((t) => t.function.name));
  const tools: ToolDef[] = [...source];
  const derived: string[] = [];
  for (const [name, args] of callsByName(conversations)) {
    if (known.has(name)) continue;
    known.add(name);
    derived.push(name);
    tools.push({
      type: 'function',
      function: {
        name,
        description: derivedDescription(args.length),
        parameters: createCompoundSchema(args) as Record<string, unknown>,
      },
    });
  }
  return { tools, derived };
}

/** Names of functions the conversations call that `tools` does not declare (empty when all are declared). */
export function undeclaredCalls(
  tools: readonly ToolDef[],
  conversations: readonly (readonly ChatMessage[])[],
): string[] {
  const known = new Set(tools.map((t) => t.function.name));
  return [...callsByName(conversations).keys()].filter((n) => !known.has(n));
}
