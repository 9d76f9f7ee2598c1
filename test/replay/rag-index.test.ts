import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allDocs, buildIndexText, parseIndexText, taskField, terms } from '../../tasks/lib/rag-index.ts';
import { retrieve } from '../../tasks/replay/retrieve.ts';
import { indexOf, knowledgeDoc, ragId, runDoc } from './fixture.ts';

const corpus = [
  runDoc(
    'refund-1',
    'How do refunds work for damaged items?',
    'Refunds are issued within 30 days of delivery.',
    'support:refunds:1',
  ),
  runDoc(
    'refund-2',
    'Can I get a refund after 40 days?',
    'No: the refund window is 30 days from delivery.',
    'support:refunds:2',
  ),
  runDoc(
    'sql-1',
    'Daily active users from warehouse.events?',
    'SELECT DATE(occurred_at), COUNT(DISTINCT user_id) FROM warehouse.events GROUP BY 1;',
    'analytics:q-1',
  ),
  knowledgeDoc(
    'kb-returns',
    'Returns FAQ',
    'Items can be returned within 30 days of delivery, unworn and with tags.',
  ),
];

test('terms: NFKC, lowercase, letters and digits, stop words and single characters dropped, plural s stripped', () => {
  assert.deepEqual(terms('How do I get REFUNDS for the Ｆｕｌｌ order #42, a b?'), [
    'get',
    'refund',
    'full',
    'order',
    '42',
  ]);
  assert.deepEqual(terms('access classes bus'), ['access', 'classe', 'bus']);
  assert.deepEqual(terms('Task: x\n\nAnswer: y'), []);
});

test('taskField: the Task paragraph of a run document, the title of a knowledge document', () => {
  assert.equal(taskField(corpus[0]!), 'How do refunds work for damaged items?');
  assert.equal(taskField(corpus[3]!), 'Returns FAQ');
});

test('the serialized index is byte-identical whatever the input order, and records its parameters', () => {
  const a = buildIndexText(corpus);
  const b = buildIndexText([...corpus].reverse());
  assert.equal(a, b);
  const parsed = JSON.parse(a);
  assert.equal(parsed.format, 'distill-rag-index');
  assert.equal(parsed.documents, 4);
  assert.deepEqual(parsed.parameters.fields, ['task', 'text']);
  assert.equal(parsed.parameters.tokenizer, 'nfkc-lower-alnum-stop-plural-v1');
});

test('duplicate ids are refused (a bug upstream)', () => {
  assert.throws(() => buildIndexText([corpus[0]!, corpus[0]!]), /duplicate RAG id rag_/);
});

test('retrieve: BM25 ranks the matching documents first, with stored fields', () => {
  const index = indexOf(corpus);
  const top = retrieve(index, 'refund for a damaged item', 3);
  assert.equal(top[0]?.id, ragId('refund-1'));
  assert.deepEqual(
    top.map((d) => d.rank),
    top.map((_, i) => i + 1),
  );
  assert.deepEqual(
    { kind: top[0]?.kind, task_key: top[0]?.task_key, trace_id: top[0]?.trace_id, text: top[0]?.text },
    {
      kind: 'run',
      task_key: 'support:refunds:1',
      trace_id: 'tr_refund-1',
      text: 'Task: How do refunds work for damaged items?\n\nAnswer: Refunds are issued within 30 days of delivery.',
    },
  );
  assert.ok(!top.some((d) => d.id === ragId('sql-1')), 'the SQL document shares no term with the query');
  assert.deepEqual(retrieve(index, 'the and of', 5), [], 'stop words only: nothing to match');
});

test('retrieve: equal scores are ordered by id, ascending, whatever the insertion order', () => {
  const twins = ['b', 'a', 'd', 'c'].map((n) =>
    runDoc(`twin-${n}`, 'Rotate the logs weekly?', 'Use logrotate.', `ops:${n}`),
  );
  const expected = twins.map((d) => d.id).sort();
  for (const rows of [twins, [...twins].reverse()]) {
    const top = retrieve(indexOf(rows), 'rotate logs weekly', 10);
    assert.equal(new Set(top.map((d) => d.score)).size, 1, 'identical documents score the same');
    assert.deepEqual(
      top.map((d) => d.id),
      expected,
    );
  }
  assert.deepEqual(
    retrieve(indexOf(twins), 'rotate logs weekly', 2).map((d) => d.id),
    expected.slice(0, 2),
  );
});

test('retrieve: exclude drops documents before ranking (the top k is still k long)', () => {
  const index = indexOf(corpus);
  const top = retrieve(index, 'refund within 30 days of delivery', 2, (d) => d.trace_id === 'tr_refund-1');
  assert.equal(top.length, 2);
  assert.ok(!top.some((d) => d.id === ragId('refund-1')));
});

test('allDocs lists every document sorted by id', () => {
  const docs = allDocs(indexOf(corpus));
  assert.deepEqual(
    docs.map((d) => d.id),
    corpus.map((d) => d.id).sort(),
  );
  assert.deepEqual(
    docs.find((d) => d.id === ragId('kb-returns')),
    { id: ragId('kb-returns'), kind: 'document', task_key: '', trace_id: '' },
  );
});

test('parseIndexText names what is wrong with a bad index file', () => {
  const broken = parseIndexText('{"format": ');
  assert.equal(broken.ok, false);
  assert.match((broken as { error: string }).error, /^not valid JSON \(.+\)$/);
  const r = parseIndexText(JSON.stringify({ format: 'other' }));
  assert.equal(r.ok, false);
  assert.match((r as { error: string }).error, /^not a distill RAG index of format version 1 \(format: /);
  const good = JSON.parse(buildIndexText(corpus));
  assert.deepEqual(
    parseIndexText(JSON.stringify({ ...good, parameters: { ...good.parameters, tokenizer: 'old' } })),
    { ok: false, error: 'built with other index parameters than this code uses' },
  );
  assert.deepEqual(parseIndexText(JSON.stringify({ ...good, documents: 9 })), {
    ok: false,
    error: 'holds 4 documents, its header says 9',
  });
});
