import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** One version of an operations / support playbook: markdown body and tags. */
const PlaybookRow = z.object({
  playbook_id: z.string().min(1),
  version: z.number().int().positive(),
  title: z.string().min(1),
  body_markdown: z.string(),
  tags: z.array(z.string()),
  owner: z.string().nullish(),
  updated_at: z.string(),
});

const unknownFields = unknownFieldsCheck(Object.keys(PlaybookRow.shape));

/** Playbooks → one document per version (`doc_id` = `<playbook_id>@v<version>`). */
export const playbook: Adapter = {
  name: 'playbook',
  description: 'Versioned playbooks (title, markdown body, tags) for the RAG corpus',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['playbook_id', 'version', 'title', 'body_markdown', 'tags'], 'playbook'),
  toEvidence(row): AdapterOutput {
    const read = readInput(PlaybookRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    if (r.body_markdown.trim() === '') {
      return {
        type: 'drop',
        reason: 'EMPTY_DOCUMENT',
        detail: `$.body_markdown: playbook ${r.playbook_id} v${r.version} has no text`,
      };
    }
    return {
      type: 'keep',
      records: [
        {
          kind: 'document',
          trace_id: null,
          task_key: null,
          recorded_at: r.updated_at,
          flags: unknownFields(row),
          document: {
            doc_id: `${r.playbook_id}@v${r.version}`,
            title: r.title,
            text: r.body_markdown,
            tags: [...new Set(r.tags)].sort(), // tags have no order
          },
        },
      ],
    };
  },
};
