import { z } from 'zod';
import { ChatMessage, DerivedTools, RoleRepair, ToolDef } from './chat.ts';
import { Provenance } from './provenance.ts';

/** Version of the PreferenceSample shape. */
export const SCHEMA_VERSION = 2;

/** One side of a pair: the rest of its own conversation after the shared prompt, starting with the model's turn. */
const Continuation = z
  .array(ChatMessage)
  .min(1)
  .refine((c) => c[0]?.role === 'assistant', { message: 'a pair side starts with an assistant turn' });

/** A chosen / rejected pair for one prompt. Never a self-pair, never identical texts. */
export const PreferenceSample = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    id: z.string().regex(/^pref_[0-9a-f]{24}$/),
    pair_type: z
      .enum(['outcome', 'correction', 'judgment'])
      .describe(
        'outcome: accepted vs rejected attempt; correction: human edit vs original; judgment: imported human preference',
      ),
    task_key: z.string().nullable(),
    prompt: z
      .array(ChatMessage)
      .min(1)
      .describe('Exactly the opening both conversations share (at least through the first user turn)'),
    tools: z
      .array(ToolDef)
      .optional()
      .describe('Tools offered (or derived from the calls, see derived_tools); absent when none'),
    derived_tools: DerivedTools,
    chosen: Continuation.describe('The rest of the chosen conversation after the prompt'),
    rejected: Continuation.describe('The rest of the rejected conversation after the prompt'),
    repairs: z
      .strictObject({ chosen: z.array(RoleRepair), rejected: z.array(RoleRepair) })
      .describe("Role-order repairs applied to each side's conversation"),
    chosen_id: z.string().describe('Run or judgment id the chosen side came from'),
    rejected_id: z.string(),
    chosen_provenance: Provenance,
    rejected_provenance: Provenance,
    split: z.enum(['train', 'test']),
  })
  .refine((p) => p.chosen_id !== p.rejected_id, {
    message: 'self-pair: chosen_id equals rejected_id',
    path: ['rejected_id'],
  })
  .refine((p) => JSON.stringify(p.chosen) !== JSON.stringify(p.rejected), {
    message: 'chosen and rejected are identical',
    path: ['rejected'],
  })
  .describe('PreferenceSample: a DPO pair with provenance for both sides');
export type PreferenceSample = z.infer<typeof PreferenceSample>;
