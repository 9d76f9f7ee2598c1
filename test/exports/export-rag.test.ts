import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuarantineRecord } from '../../schemas/quarantine-record.ts';
import { RagSample } from '../../schemas/rag-sample.ts';
import { chunkText, exportRag, runDocument } from '../../tasks/phases/export-rag/run.ts';
import {
  editSignal,
  makeProject,
  mkDocument,
  mkRun,
  prov,
  readRows,
  writeEvidence,
  writeScored,
} from './fixture.ts';

test('RAG documents come from accepted and partially accepted runs (correction as the answer) and knowledge documents', async () => {
  const { root, config } = await makeProject();
  await writeScored(root, {
    'runs.jsonl': [
      mkRun({
        id: 'acc',
        category: 'accepted',
        task: 'T1',
        prompt: 'How do I rotate logs?',
        answer: 'Use logrotate with a weekly rule.',
      }),
      mkRun({
        id: 'part',
        category: 'partially_accepted',
        task: 'T2',
        prompt: 'Restart nginx?',
        answer: 'reboot',
        correction: 'systemctl reload nginx',
        signals: [editSignal('part', 'systemctl reload nginx')],
      }),
      mkRun({ id: 'rej', category: 'rejected', task: 'T3' }),
      mkRun({ id: 'rev', category: 'needs_human_review', task: 'T4' }),
      mkRun({
        id: 'no-answer',
        category: 'accepted',
        task: 'T5',
        // only a pleasantry: nothing in it does work, so it is not a document
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: "You're welcome! Have a great day!" },
        ],
      }),
    ],
  });
  const doc = mkDocument('pb-1', 'Disk full playbook', 'Check df -h first.');
  await writeEvidence(root, { 'docs.jsonl': [doc] });
  const res = await exportRag(root, config);
  const rows = await readRows<RagSample>(root, 'exports/rag/documents');
  for (const r of rows) {
    assert.equal(RagSample.safeParse(r).success, true);
    for (const v of Object.values(r.metadata))
      assert.ok(typeof v === 'string' || typeof v === 'number', 'metadata is flat');
  }
  const byText = Object.fromEntries(rows.map((r) => [r.text, r]));
  assert.deepEqual(Object.keys(byText).sort(), [
    'Disk full playbook\n\nCheck df -h first.',
    'Task: How do I rotate logs?\n\nAnswer: Use logrotate with a weekly rule.',
    'Task: Restart nginx?\n\nAnswer: systemctl reload nginx',
  ]);
  const acc = byText['Task: How do I rotate logs?\n\nAnswer: Use logrotate with a weekly rule.'] as RagSample;
  assert.match(acc.id, /^rag_[0-9a-f]{24}$/);
  assert.deepEqual(acc.metadata, {
    kind: 'run',
    source_file: 'data/_kb/gateway.jsonl',
    stream: 'gateway',
    trace_id: 'acc',
    task_key: 'T1',
    category: 'accepted',
    recorded_at: '2024-05-01T10:00:00.000Z',
    evidence_id: mkRun({ id: 'acc', category: 'accepted' }).evidence_id,
    title: '',
    chunk_index: 0,
    chunk_count: 1,
  });
  assert.deepEqual(acc.provenance, prov('acc'));
  assert.deepEqual((byText['Disk full playbook\n\nCheck df -h first.'] as RagSample).metadata, {
    kind: 'document',
    source_file: 'data/_kb/docs.jsonl',
    stream: 'docs',
    trace_id: '',
    task_key: '',
    category: '',
    recorded_at: '',
    evidence_id: doc.evidence_id,
    title: 'Disk full playbook',
    chunk_index: 0,
    chunk_count: 1,
  });
  const q = await readRows<QuarantineRecord>(root, 'exports/rag/_quarantine');
  assert.deepEqual(
    q.map((r) => [r.record_id, r.reason, r.detail]),
    [
      [
        'no-answer',
        'NO_SUBSTANCE',
        'no assistant turn does work (no tool call, no answer beyond a pleasantry), no correction and no patch',
      ],
      ['rej', 'CATEGORY_EXCLUDED', 'rejected runs are not grounded knowledge'],
      ['rev', 'CATEGORY_EXCLUDED', 'needs_human_review runs are not grounded knowledge'],
    ],
  );
  assert.deepEqual(res.counts, {
    in: 6,
    out: 3,
    quarantined: 3,
    by_reason: { CATEGORY_EXCLUDED: 2, NO_SUBSTANCE: 1 },
  });
});

test('long documents are chunked on paragraph boundaries with chunk metadata and -<i> ids', async () => {
  const { root, config } = await makeProject({ rag_chunk_chars: 40 });
  const paras = ['Alpha paragraph one.', 'Beta paragraph two.', 'Gamma paragraph three is long.', 'Delta.'];
  await writeScored(root, { 'runs.jsonl': [] });
  await writeEvidence(root, { 'docs.jsonl': [mkDocument('long', '', paras.join('\n\n'))] });
  await exportRag(root, config);
  const rows = await readRows<RagSample>(root, 'exports/rag/documents');
  assert.deepEqual(
    rows.map((r) => [r.text, r.metadata['chunk_index'], r.metadata['chunk_count']]),
    [
      // 20 + 2 + 19 = 41 > 40, so Alpha stands alone; Gamma (30) + 2 + Delta (6) fits
      ['Alpha paragraph one.', 0, 3],
      ['Beta paragraph two.', 1, 3],
      ['Gamma paragraph three is long.\n\nDelta.', 2, 3],
    ],
  );
  const base = (rows[0] as RagSample).id.slice(0, -2);
  assert.deepEqual(
    rows.map((r) => r.id),
    [`${base}-0`, `${base}-1`, `${base}-2`],
  );
  for (const r of rows) assert.ok(r.text.length <= 40);
});

test('chunkText keeps short text whole, packs paragraphs, and cuts an over-long paragraph at a space', () => {
  assert.deepEqual(chunkText('short', 10), ['short']);
  assert.deepEqual(chunkText('aaaa\n\nbbbb\n\ncccc', 10), ['aaaa\n\nbbbb', 'cccc']);
  assert.deepEqual(chunkText('one two three four five six', 10), ['one two', 'three four', 'five six']);
  assert.deepEqual(chunkText('abcdefghijklmnop', 5), ['abcde', 'fghij', 'klmno', 'p']);
  // never split inside a surrogate pair
  for (const c of chunkText('😀😀😀😀😀', 3)) assert.ok(c.isWellFormed(), JSON.stringify(c));
});

test('a document body that already opens with its title (plain or as a heading) does not repeat it', async () => {
  const { root, config } = await makeProject();
  await writeScored(root, { 'runs.jsonl': [] });
  await writeEvidence(root, {
    'docs.jsonl': [
      mkDocument('h', 'Shipping FAQ', '# Shipping FAQ\n\n3-5 days.'),
      mkDocument('p', 'Returns', 'Returns\n\n30 days.'),
      mkDocument('n', 'Refunds', 'Within a week.'),
    ],
  });
  await exportRag(root, config);
  const texts = (await readRows<RagSample>(root, 'exports/rag/documents')).map((r) => r.text).sort();
  assert.deepEqual(texts, [
    '# Shipping FAQ\n\n3-5 days.',
    'Refunds\n\nWithin a week.',
    'Returns\n\n30 days.',
  ]);
});

test('documents with the same text are kept once; the lowest id wins and the other is DUPLICATE_TEXT', async () => {
  const { root, config } = await makeProject();
  await writeScored(root, { 'runs.jsonl': [] });
  const d1 = mkDocument('d1', 'T', 'Same body.');
  const d2 = mkDocument('d2', 'T', 'Same  body.', prov('doc:d2', 1, 'data/_kb/docs.jsonl'));
  await writeEvidence(root, { 'docs.jsonl': [d1, d2] });
  await exportRag(root, config);
  const rows = await readRows<RagSample>(root, 'exports/rag/documents');
  const q = await readRows<QuarantineRecord>(root, 'exports/rag/_quarantine');
  assert.equal(rows.length, 1);
  assert.deepEqual(
    q.map((r) => [r.reason, r.detail, r.ref]),
    [
      [
        'DUPLICATE_TEXT',
        `same text as ${(rows[0] as RagSample).id}, which was kept`,
        (rows[0] as RagSample).id,
      ],
    ],
  );
  assert.notEqual(q[0]?.record_id, rows[0]?.metadata['evidence_id']);
});

test('equal texts are kept in time order: the copy in the earlier day shard wins even with the higher id', async () => {
  const { root, config } = await makeProject();
  const spec = { category: 'accepted', prompt: 'How do I rotate logs?', answer: 'Use logrotate.' } as const;
  const [a, b] = [mkRun({ ...spec, id: 'copy-a' }), mkRun({ ...spec, id: 'copy-b' })];
  const baseId = (r: typeof a): string => {
    const out = runDocument(r);
    assert.equal(out.type, 'keep');
    return out.type === 'keep' ? out.doc.baseId : '';
  };
  // the earlier day holds the copy with the higher id: a global "lowest id" rule would keep the other
  const [low, high] = baseId(a) < baseId(b) ? [a, b] : [b, a];
  await writeScored(root, {
    '2024/05/01/runs.jsonl': [{ ...high, recorded_at: '2024-05-01T10:00:00.000Z' }],
    '2024/05/02/runs.jsonl': [{ ...low, recorded_at: '2024-05-02T10:00:00.000Z' }],
  });
  await exportRag(root, config);
  const day1 = await readRows<RagSample>(root, 'exports/rag/documents/2024-05-01.jsonl');
  const day2 = await readRows<RagSample>(root, 'exports/rag/documents/2024-05-02.jsonl');
  assert.deepEqual(
    day1.map((r) => r.metadata['trace_id']),
    [high.run_id],
  );
  assert.deepEqual(day2, []);
  const q = await readRows<QuarantineRecord>(root, 'exports/rag/_quarantine/2024-05-02.jsonl');
  assert.deepEqual(
    q.map((r) => [r.record_id, r.reason, r.ref]),
    [[low.run_id, 'DUPLICATE_TEXT', baseId(high)]],
  );
});
