import { z } from 'zod';
import { ChatMessage, DerivedTools, RoleRepair, ToolDef } from './chat.ts';
import { Provenance } from './provenance.ts';

/** Version of the SftSample shape. */
export const SCHEMA_VERSION = 2;

/**
 * The only categories an SFT row may carry. `rejected` and `needs_human_review` are not in this
 * enum on purpose: this is the first of three layers that keep them out of training data.
 */
export const SFT_QUALITY = ['accepted', 'partially_accepted'] as const;
export const SftQuality = z.enum(SFT_QUALITY);

/** One instruction → response conversation for supervised fine-tuning. */
export const SftSample = z
  .strictObject({
    schema_version: z.literal(SCHEMA_VERSION),
    id: z.string().regex(/^sft_[0-9a-f]{24}$/),
    run_id: z.string(),
    task_key: z.string().nullable(),
    quality_score: SftQuality.describe('Category of the source run; never rejected or needs_human_review'),
    messages: z.array(ChatMessage).min(2),
    tools: z
      .array(ToolDef)
      .describe(
        'Every tool the source offered plus a derived definition for each called tool it did not define',
      ),
    derived_tools: DerivedTools,
    repairs: z.array(RoleRepair).describe('Role-order repairs applied to the conversation, empty when none'),
    split: z.enum(['train', 'test']),
    provenance: Provenance,
  })
  .describe('SftSample: a training conversation from an accepted run');
export type SftSample = z.infer<typeof SftSample>;
