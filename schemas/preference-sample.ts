import { z } from 'zod';
import { ChatMessage, ToolDef } from './chat.ts';
import { Provenance } from './provenance.ts';

/** Version of the PreferenceSample shape. */
export const SCHEMA_VERSION = 1;

/** Assistant message used as one side of a preference pair. */
const AssistantTurn = z.strictObject({ role: z.literal('assistant'), content: z.string().min(1) });

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
    prompt: z.array(ChatMessage).min(1),
    tools: z.array(ToolDef).optional().describe('Tools offered to the model in the prompt; absent when none'),
    chosen: AssistantTurn,
    rejected: AssistantTurn,
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
  .refine((p) => p.chosen.content !== p.rejected.content, {
    message: 'chosen and rejected texts are identical',
    path: ['rejected'],
  })
  .describe('PreferenceSample: a DPO pair with provenance for both sides');
export type PreferenceSample = z.infer<typeof PreferenceSample>;
