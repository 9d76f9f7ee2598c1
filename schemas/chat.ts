import { z } from 'zod';

/** Version of the chat message shape (OpenAI chat format, our canonical conversation form). */
export const SCHEMA_VERSION = 1;

/** One function call requested by the assistant; `arguments` is a JSON-encoded string, as in OpenAI's API. */
export const ToolCall = z.strictObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().min(1),
    arguments: z.string().describe('JSON-encoded arguments (a string, not an object)'),
  }),
});
export type ToolCall = z.infer<typeof ToolCall>;

/** A conversation turn in OpenAI chat shape. */
export const ChatMessage = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: z.string() }),
  z.strictObject({ role: z.literal('user'), content: z.string() }),
  z.strictObject({
    role: z.literal('assistant'),
    content: z.string().nullable(),
    tool_calls: z.array(ToolCall).optional(),
    reasoning: z
      .string()
      .optional()
      .describe('Model reasoning / thinking text, kept out of training targets by default'),
  }),
  z.strictObject({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: z.string() }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A change made to bring a conversation into an order every common chat template accepts (docs/exports.md). */
export const ROLE_REPAIR_CODES = [
  'MERGE_SYSTEM',
  'HOIST_SYSTEM',
  'DROP_REPEATED_SYSTEM',
  'DROP_EMPTY_TURN',
  'DROP_LEADING_ASSISTANT',
  'MERGE_USER',
  'MERGE_ASSISTANT',
] as const;
export const RoleRepair = z.strictObject({
  code: z.enum(ROLE_REPAIR_CODES),
  at: z.number().int().nonnegative().describe("Index of the message concerned in the run's own conversation"),
});
export type RoleRepair = z.infer<typeof RoleRepair>;

/** Names of the declared tools whose definition distill derived from the calls (the source had none). */
export const DerivedTools = z
  .array(z.string().min(1))
  .describe(
    'Names of tools in `tools` whose definitions were derived from the calls seen, not recorded by the source',
  );

/** A tool definition offered to the model (OpenAI `tools` entry). */
export const ToolDef = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ToolDef = z.infer<typeof ToolDef>;
