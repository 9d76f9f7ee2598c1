import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allDocs,
  buildIndexFiles,
  buildSegment,
  buildStatsText,
  loadIndexTexts,
  parseStatsText,
  segmentFile,
  STATS_FILE,
  taskField,
  terms,
  toIndexedDoc,
} from '../../tasks/lib/rag-index.ts';
import type { RagSample } from '../../schemas/rag-sample.ts';
import { retrieve } from '../../tasks/replay/retrieve.ts';
import { indexOf, knowledgeDoc, loadFiles, ragId, runDoc } from './fixture.ts';

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

const one = (rows: RagSample[]): Map<string, string> => buildIndexFiles(new Map([['2026-10-01', rows]]));

test('the index files are byte-identical whatever the input order, and record their parameters', () => {
  const a = one(corpus);
  const b = one([...corpus].reverse());
  assert.deepEqual([...a.keys()].sort(), ['segments/2026-10-01.jsonl', 'stats.json']);
  assert.deepEqual(a, b);
  const stats = JSON.parse(a.get(STATS_FILE)!);
  assert.equal(stats.format, 'distill-rag-index');
  assert.equal(stats.format_version, 2);
  assert.equal(stats.documents, 4);
  assert.deepEqual(stats.segments, [{ shard: '2026-10-01', documents: 4 }]);
  assert.deepEqual(stats.parameters.fields, ['task', 'text']);
  assert.equal(stats.parameters.tokenizer, 'nfkc-lower-alnum-stop-plural-v1');
  const lines = a.get(segmentFile('2026-10-01'))!.split('\n');
  assert.equal(lines.length, 4, 'three lines, newline-terminated');
  const header = JSON.parse(lines[0]!);
  assert.deepEqual(header.ids, corpus.map((r) => r.id).sort());
  assert.equal(header.field_length.length, 8, 'two fields a document');
});

test('a segment depends on its own documents only; the statistics on every segment', () => {
  const split = buildIndexFiles(
    new Map([
      ['a', corpus.slice(0, 2)],
      ['b', corpus.slice(2)],
    ]),
  );
  const alone = buildIndexFiles(new Map([['a', corpus.slice(0, 2)]]));
  assert.equal(split.get(segmentFile('a')), alone.get(segmentFile('a')));
  assert.notEqual(split.get(STATS_FILE), alone.get(STATS_FILE));
});

test('duplicate ids are refused (a bug upstream), within a segment and across segments', () => {
  assert.throws(() => one([corpus[0]!, corpus[0]!]), /duplicate RAG id rag_/);
  const a = buildSegment('a', [toIndexedDoc(corpus[0]!)]);
  const b = buildSegment('b', [toIndexedDoc(corpus[0]!), toIndexedDoc(corpus[1]!)]);
  assert.throws(() => buildStatsText([a.header, b.header]), /duplicate RAG id rag_\w+ \(in two segments\)/);
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

test('loading names the file and what is wrong with it', () => {
  const good = one(corpus);
  const load = (files: Map<string, string>) =>
    loadIndexTexts(files.get(STATS_FILE) ?? '', (shard) => files.get(segmentFile(shard)) ?? '');
  const broken = load(new Map([[STATS_FILE, '{"format": ']]));
  assert.equal(broken.ok, false);
  assert.match((broken as { error: string }).error, /^not valid JSON \(.+\)$/);
  const other = parseStatsText(JSON.stringify({ format: 'other' }));
  assert.equal(other.ok, false);
  assert.match(
    (other as { error: string }).error,
    /^not the statistics of a distill RAG index of format version 2 \(format: /,
  );
  const stats = JSON.parse(good.get(STATS_FILE)!);
  assert.deepEqual(
    parseStatsText(JSON.stringify({ ...stats, parameters: { ...stats.parameters, tokenizer: 'old' } })),
    {
      ok: false,
      error: 'built with other index parameters than this code uses',
    },
  );
  assert.deepEqual(parseStatsText(JSON.stringify({ ...stats, documents: 9 })), {
    ok: false,
    error: 'lists segments of 4 documents, its header says 9',
  });
  const escape = parseStatsText(
    JSON.stringify({ ...stats, segments: [{ shard: '../../etc/x', documents: 4 }] }),
  );
  assert.equal(escape.ok, false, 'a segment is named, never a path');
  assert.match((escape as { error: string }).error, /segments\.0\.shard: not a shard name/);
  const seg = good.get(segmentFile('2026-10-01'))!;
  assert.deepEqual(
    load(new Map([...good, [segmentFile('2026-10-01'), seg.split('\n').slice(0, 2).join('\n') + '\n']])),
    {
      ok: false,
      error: 'not a segment (2 lines, expected 3)',
      where: 'segments/2026-10-01.jsonl',
    },
  );
  const renamed = new Map([
    ...good,
    [STATS_FILE, JSON.stringify({ ...stats, segments: [{ shard: '2026-10-01', documents: 4 }] })],
  ]);
  assert.equal(loadFiles(renamed).documents, 4);
});
