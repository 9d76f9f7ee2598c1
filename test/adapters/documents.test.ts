import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knowledgeDoc } from '../../tasks/adapters/knowledge-doc.ts';
import { playbook } from '../../tasks/adapters/playbook.ts';

const ctx = (stream: string) => ({ stream, sourceFile: `data/_kb/${stream}/2026-10-05.jsonl`, index: 0 });

test('playbook: a version becomes a document with doc_id <id>@v<version> and sorted tags', () => {
  const row = {
    playbook_id: 'pb-refund-policy',
    version: 3,
    title: 'Refund requests',
    body_markdown: '# Refund requests\n\n1. Check the date.',
    tags: ['support', 'refunds', 'support'],
    owner: 'support-ops',
    updated_at: '2026-10-05T16:52:31.552Z',
  };
  assert.deepEqual(playbook.toEvidence(row, ctx('playbooks')), {
    type: 'keep',
    records: [
      {
        kind: 'document',
        trace_id: null,
        task_key: null,
        recorded_at: '2026-10-05T16:52:31.552Z',
        flags: [],
        document: {
          doc_id: 'pb-refund-policy@v3',
          title: 'Refund requests',
          text: '# Refund requests\n\n1. Check the date.',
          tags: ['refunds', 'support'],
        },
      },
    ],
  });
  assert.deepEqual(playbook.toEvidence({ ...row, body_markdown: '   ' }, ctx('playbooks')), {
    type: 'drop',
    reason: 'EMPTY_DOCUMENT',
    detail: '$.body_markdown: playbook pb-refund-policy v3 has no text',
  });
  assert.deepEqual(playbook.toEvidence({ ...row, version: 0 }, ctx('playbooks')), {
    type: 'drop',
    reason: 'SCHEMA_INVALID',
    detail: '$.version: Too small: expected number to be >0',
  });
  assert.deepEqual(playbook.toEvidence({ ...row, tags: 'support' }, ctx('playbooks')), {
    type: 'drop',
    reason: 'SCHEMA_TYPE',
    detail: '$.tags: Invalid input: expected array, received string',
  });
});

test('knowledge-doc: sections render as markdown under the title; kind and labels become tags', () => {
  const row = {
    id: 'kb/faq/returns',
    revision: 2,
    kind: 'faq',
    title: 'Returns FAQ',
    url: 'https://wiki.northwind.example/kb/faq/returns',
    sections: [
      { heading: 'How long do I have?', content: '30 days from delivery.' },
      { heading: 'Empty', content: ' ' },
      { heading: 'Are exchanges free?', content: 'Yes.' },
    ],
    labels: ['returns', 'refunds'],
    last_modified: '2026-10-05T17:49:11.872Z',
  };
  assert.deepEqual(knowledgeDoc.toEvidence(row, ctx('knowledge_docs')), {
    type: 'keep',
    records: [
      {
        kind: 'document',
        trace_id: null,
        task_key: null,
        recorded_at: '2026-10-05T17:49:11.872Z',
        flags: [],
        document: {
          doc_id: 'kb/faq/returns@r2',
          title: 'Returns FAQ',
          text: '# Returns FAQ\n\n## How long do I have?\n\n30 days from delivery.\n\n## Are exchanges free?\n\nYes.',
          tags: ['faq', 'refunds', 'returns'],
        },
      },
    ],
  });
  assert.deepEqual(knowledgeDoc.toEvidence({ ...row, sections: [] }, ctx('knowledge_docs')), {
    type: 'drop',
    reason: 'EMPTY_DOCUMENT',
    detail: '$.sections: page kb/faq/returns r2 has no section with text',
  });
  assert.deepEqual(knowledgeDoc.toEvidence({ ...row, kind: 'blog' }, ctx('knowledge_docs')), {
    type: 'drop',
    reason: 'SCHEMA_ENUM',
    detail: '$.kind: Invalid option: expected one of "runbook"|"faq"',
  });
  assert.deepEqual(knowledgeDoc.toEvidence({ ...row, sections: [{ heading: 'x' }] }, ctx('knowledge_docs')), {
    type: 'drop',
    reason: 'SCHEMA_MISSING_FIELD',
    detail: '$.sections[0].content: Invalid input: expected string, received undefined',
  });
});
