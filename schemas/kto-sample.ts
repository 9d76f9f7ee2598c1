import { z } from 'zod';
import { ChatMessage, ToolDef } from './chat.ts';
import { Provenance } from './provenance.ts';

/** Version of the KtoSample shape. */
export const SCHEMA_VERSION = 1;

/** An unpaired preference row (TRL KTO): a completion labelled desirable or not. */
export const KtoSample = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    id: z.string().regex(/^kto_[0-9a-f]{24}$/),
    run_id: z.string(),
    task_key: z.string().nullable(),
    prompt: z.array(ChatMessage).min(1),
    tools: z.array(ToolDef).optional().describe('Tools offered to the model in the prompt; absent when none'),
    completion: z.strictObject({ role: z.literal('assistant'), content: z.string().min(1) }),
    label: z.boolean().describe('true = desirable (accepted run), false = undesirable (rejected run)'),
    split: z.enum(['train', 'test']),
    provenance: Provenance,
  })
  .describe('KtoSample: an unpaired preference row');
export type KtoSample = z.infer<typeof KtoSample>;
