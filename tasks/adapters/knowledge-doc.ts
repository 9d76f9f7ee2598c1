import { z } from 'zod';
import type { Adapter, AdapterOutput } from './adapter.ts';
import { readInput, unknownFieldsCheck } from './input-schema.ts';
import { sniffByKeys } from './sniff-keys.ts';

/** A wiki page export (runbook or FAQ): titled sections, labels, a revision number. */
const KnowledgeDocRow = z.object({
  id: z.string().min(1),
  revision: z.number().int().positive(),
  kind: z.enum(['runbook', 'faq']),
  title: z.string().min(1),
  url: z.string().nullish(),
  sections: z.array(z.object({ heading: z.string(), content: z.string() })),
  labels: z.array(z.string()).nullish(),
  last_modified: z.string(),
});

const unknownFields = unknownFieldsCheck(Object.keys(KnowledgeDocRow.shape));

/** Knowledge-base pages → one document (sections rendered as markdown; kind + labels as tags). */
export const knowledgeDoc: Adapter = {
  name: 'knowledge-doc',
  description: 'Knowledge-base pages (runbooks, FAQs) exported as titled sections, for the RAG corpus',
  shape: 'jsonl',
  sniff: (row) => sniffByKeys(row, ['id', 'revision', 'kind', 'title', 'sections'], 'knowledge-doc'),
  toEvidence(row): AdapterOutput {
    const read = readInput(KnowledgeDocRow, row);
    if (!read.ok) return { type: 'drop', ...read.drop };
    const r = read.data;
    const sections = r.sections.filter((s) => s.content.trim() !== '');
    if (sections.length === 0) {
      return {
        type: 'drop',
        reason: 'EMPTY_DOCUMENT',
        detail: `$.sections: page ${r.id} r${r.revision} has no section with text`,
      };
    }
    const text = [`# ${r.title}`, ...sections.map((s) => `## ${s.heading}\n\n${s.content}`)].join('\n\n');
    return {
      type: 'keep',
      records: [
        {
          kind: 'document',
          trace_id: null,
          task_key: null,
          recorded_at: r.last_modified,
          flags: unknownFields(row),
          document: {
            doc_id: `${r.id}@r${r.revision}`,
            title: r.title,
            text,
            tags: [...new Set([r.kind, ...(r.labels ?? [])])].sort(),
          },
        },
      ],
    };
  },
};
