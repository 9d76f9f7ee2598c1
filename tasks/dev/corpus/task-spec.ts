/** Shapes shared by the corpus generator's task catalogs. Raw rows use the vendor (OpenAI) shape. */

/** An OpenAI chat message as a gateway would log it. */
export type RawMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: RawToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** An OpenAI tool call; `arguments` is a JSON string (possibly a broken one, on purpose). */
export interface RawToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** An OpenAI `tools` entry. */
export interface RawToolDef {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** Which outcome streams can judge a task. */
export type Check = 'human' | 'auditor' | 'tests' | 'reward';

/** One tool invocation and what it returned. */
export interface ToolStep {
  name: string;
  args: Record<string, unknown>;
  result: string;
  /** Exit code the tool reported, when it is a command-line tool. */
  exitCode?: number;
}

/** A single-call task as sent through the gateway. */
export interface GatewayTask {
  family: 'coding' | 'sql' | 'support' | 'summary';
  app: string;
  /** Explicit key when the client app sets one; null → adapters derive it from the prompt. */
  taskKey: string | null;
  prompt: RawMessage[];
  tools: RawToolDef[];
  /** A tool the model may call first (gateway rows then hold the round trip). */
  toolStep: ToolStep | null;
  good: string;
  flawed: string;
  checks: Check[];
  suite: string | null;
  runner: string | null;
  environment: string | null;
}

/** One scripted agent run: tool steps then a final message. */
export interface AgentScript {
  steps: ToolStep[];
  final: string;
}

/** A multi-step agent task with a succeeding and a failing script. */
export interface AgentTask {
  agent: string;
  taskKey: string | null;
  system: string;
  user: string;
  tools: RawToolDef[];
  good: AgentScript;
  bad: AgentScript;
  checks: Check[];
  suite: string | null;
  runner: string | null;
  environment: string | null;
}

/** Builds an OpenAI function tool definition. */
export function fnTool(
  name: string,
  description: string,
  properties: Record<string, { type: string; description: string }>,
): RawToolDef {
  return {
    type: 'function',
    function: {
      name,
      description,
      parameters: { type: 'object', properties, required: Object.keys(properties) },
    },
  };
}

/** A short stable hex tag of a string (FNV-1a 32), for explicit task keys. */
export function tag(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
