import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { idAt, isRowLocator } from '../../tasks/inspect/row-locator.ts';
import { UserError } from '../../tasks/lib/result.ts';

// `distill trace <file>:<line>`: a row names itself by its `id`, or (OpenAI files allow no extra
// key) through the `<split>.ids.jsonl` sidecar whose line n is {"line": n, "id": ...}.

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'distill-locator-'));
  mkdirSync(join(root, 'exports/sft/openai'), { recursive: true });
  writeFileSync(join(root, 'exports/sft/rows.jsonl'), '{"id":"sft_a"}\n{"id":"sft_b"}\nnot json\n[1]\n');
  writeFileSync(join(root, 'exports/sft/openai/train.jsonl'), '{"messages":[]}\n{"messages":[]}\n');
  writeFileSync(
    join(root, 'exports/sft/openai/train.ids.jsonl'),
    '{"line":1,"id":"sft_a"}\n{"line":3,"id":"sft_b"}\n',
  );
  return root;
}

function refused(f: () => unknown, code: string, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('a locator is <file>.jsonl:<line>; anything else is an id', () => {
  assert.equal(isRowLocator('exports/sft/rows.jsonl:2'), true);
  assert.equal(isRowLocator('sft_0123456789abcdef01234567'), false);
  assert.equal(isRowLocator('exports/sft/rows.jsonl'), false);
});

test('a row with an id names itself; a row without one is read through its sidecar, relative or absolute', () => {
  const root = project();
  assert.equal(idAt(root, 'exports/sft/rows.jsonl:2'), 'sft_b');
  assert.equal(idAt(root, 'exports/sft/openai/train.jsonl:1'), 'sft_a');
  assert.equal(idAt(root, join(root, 'exports/sft/rows.jsonl:1')), 'sft_a');
});

test('a damaged, missing or out-of-range row is a coded error naming the file and line, never a stack', () => {
  const root = project();
  refused(
    () => idAt(root, 'exports/sft/rows.jsonl:3'),
    'UPSTREAM_DAMAGED',
    /^exports\/sft\/rows\.jsonl:3 is not valid JSON/,
  );
  refused(
    () => idAt(root, 'exports/sft/rows.jsonl:4'),
    'UPSTREAM_DAMAGED',
    /^exports\/sft\/rows\.jsonl:4 is not a JSON object/,
  );
  refused(() => idAt(root, 'exports/sft/rows.jsonl:9'), 'NOT_FOUND', /has 4 rows, no line 9/);
  refused(() => idAt(root, 'exports/sft/rows.jsonl:0'), 'USAGE', /lines are numbered from 1/);
  refused(() => idAt(root, 'exports/rag/documents.jsonl:1'), 'NOTHING_BUILT', /does not exist/);
  // the sidecar's line 2 maps line 3, not 2: the files disagree
  refused(
    () => idAt(root, 'exports/sft/openai/train.jsonl:2'),
    'UPSTREAM_DAMAGED',
    /does not map line 2 to an id/,
  );
});

test('an OpenAI day shard is read through its sidecar in openai/ids/<split>/ (export layout 2)', () => {
  const root = mkdtempSync(join(tmpdir(), 'distill-locator-'));
  mkdirSync(join(root, 'exports/preference/openai/test'), { recursive: true });
  mkdirSync(join(root, 'exports/preference/openai/ids/test'), { recursive: true });
  writeFileSync(
    join(root, 'exports/preference/openai/test/2026-10-05.jsonl'),
    '{"input":{}}\n{"input":{}}\n',
  );
  writeFileSync(
    join(root, 'exports/preference/openai/ids/test/2026-10-05.jsonl'),
    '{"line":1,"id":"pref_a"}\n{"line":2,"id":"pref_b"}\n',
  );
  assert.equal(idAt(root, 'exports/preference/openai/test/2026-10-05.jsonl:2'), 'pref_b');
  // a shard without its sidecar names the sidecar it looked for
  writeFileSync(join(root, 'exports/preference/openai/test/2026-10-06.jsonl'), '{"input":{}}\n');
  refused(
    () => idAt(root, 'exports/preference/openai/test/2026-10-06.jsonl:1'),
    'UPSTREAM_DAMAGED',
    /exports\/preference\/openai\/ids\/test\/2026-10-06\.jsonl \(its id sidecar\) does not exist/,
  );
});
