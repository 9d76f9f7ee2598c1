import { z } from 'zod';
import { ChatMessage, DerivedTools, RoleRepair, ToolDef } from './chat.ts';
import { Provenance } from './provenance.ts';

/** Version of the KtoSample shape. */
export const SCHEMA_VERSION = 2;

/** An unpaired preference row (TRL KTO): a completion labelled desirable or not. */
export const KtoSample = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    id: z.string().regex(/^kto_[0-9a-f]{24}$/),
    run_id: z.string(),
    task_key: z.string().nullable(),
    prompt: z.array(ChatMessage).min(1).describe('The run up to its first model turn: system and the task'),
    tools: z
      .array(ToolDef)
      .optional()
      .describe('Tools offered (or derived from the calls, see derived_tools); absent when none'),
    derived_tools: DerivedTools,
    completion: z
      .array(ChatMessage)
      .min(1)
      .refine((c) => c[0]?.role === 'assistant', { message: 'a completion starts with an assistant turn' })
      .describe(
        "The rest of the run up to its last substantive assistant turn: the model's work, tool calls and results included",
      ),
    repairs: z.array(RoleRepair),
    label: z.boolean().describe('true = desirable (accepted run), false = undesirable (rejected run)'),
    split: z.enum(['train', 'test']),
    provenance: Provenance,
  })
  .describe('KtoSample: an unpaired preference row');
export type KtoSample = z.infer<typeof KtoSample>;
