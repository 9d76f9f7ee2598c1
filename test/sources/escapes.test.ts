import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, jsonl, reward, tempDir, writeFiles } from '../reliability/fixture.ts';
import { inProcess } from '../helpers/project.ts';
import { safeText } from '../../tasks/lib/terminal-text.ts';

/**
 * Issue 20: output to a terminal is safe. File names and source text that reach the terminal (or a
 * quarantine detail) never carry raw control characters or escape sequences.
 */

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const ESC_NAME = 'evil\u001b[2J\u001b]0;pwned\u0007.jsonl';
const C1_NAME = 'c1\u009b31m\u202eevil.jsonl';
const HOSTILE_LINE = '\u001b]0;pwned\u0007\u001b[31m sk-live-0123456789abcdef not json';

function project(adapter: string, files: Record<string, string | Buffer>): string {
  const root = tempDir('distill-esc-');
  const cfg = {
    schema_version: 1,
    as_of: '2026-11-01T00:00:00.000Z',
    sources: [{ stream: 'alpha', adapter, files: ['data/_kb/a/*.jsonl'] }],
    exports: { test_fraction: 0 },
  };
  writeFileSync(join(root, 'distill.config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  mkdirSync(join(root, 'data/_kb/a'), { recursive: true });
  writeFiles(root, files);
  return root;
}

test('safeText writes control characters, escape sequences and bidi overrides out as \\uXXXX', () => {
  assert.equal(safeText('a\u001b[31mb\u0007c\u009bd\u202ee\tf'), 'a\\u001b[31mb\\u0007c\\u009bd\\u202ee\tf');
  assert.equal(safeText('plain é 漢字'), 'plain é 漢字');
});

test('distill sniff escapes file names and file content, in text and in --json', async () => {
  const dir = project('reward', {});
  writeFileSync(join(dir, ESC_NAME), `${HOSTILE_LINE}\n`);
  writeFileSync(join(dir, C1_NAME), jsonl(reward('t1')));
  const text = await inProcess(['sniff', ESC_NAME, C1_NAME], { cwd: dir });
  assert.equal(text.code, 1, text.stderr); // the first is unknown
  assert.doesNotMatch(text.stdout, RAW);
  assert.doesNotMatch(text.stderr, RAW);
  assert.match(text.stdout, /^evil\\u001b\[2J\\u001b\]0;pwned\\u0007\.jsonl: unknown: /m);
  assert.match(text.stdout, /^c1\\u009b31m\\u202eevil\.jsonl: reward \(confidence/m);
  assert.ok(!text.stdout.includes('sk-live'), 'no source text copied');
  const json = await inProcess(['sniff', '--json', ESC_NAME, C1_NAME], { cwd: dir });
  assert.doesNotMatch(json.stdout, RAW);
  const parsed = JSON.parse(json.stdout) as { file: string }[];
  assert.deepEqual(
    parsed.map((r) => r.file),
    [ESC_NAME, C1_NAME],
    'still the same JSON values',
  );
});

test('the adapter "auto" error escapes the file name and what it quotes of the file', async () => {
  const root = project('auto', {
    [`data/_kb/a/${ESC_NAME}`]: `${HOSTILE_LINE}\n${HOSTILE_LINE}\n`,
  });
  const r = await inProcess(['build-evidence', '--root', root]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /FORMAT_UNKNOWN|no adapter recognises/);
  assert.match(r.stderr, /evil\\u001b\[2J\\u001b\]0;pwned\\u0007\.jsonl/);
  assert.doesNotMatch(r.stderr, RAW);
});

test('build-evidence: a hostile file name is refused with an escaped name; the stop message carries no raw escapes', async () => {
  const root = project('reward', {
    'data/_kb/a/good.jsonl': jsonl(reward('t1')),
    [`data/_kb/a/${ESC_NAME}`]: jsonl(reward('t2')),
  });
  const r = await inProcess(['build-evidence', '--root', root]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /\[SOURCE_REFUSED\] source alpha: data\/_kb\/a\/evil\\u001b\[2J.*refused whole \(UNSAFE_SOURCE_NAME/,
  );
  assert.doesNotMatch(r.stderr, RAW);
});

test('JSON_PARSE quarantine details describe the error by position and character class, never by the raw bytes', async () => {
  const root = project('reward', {
    'data/_kb/a/x.jsonl': jsonl(reward('t1'), HOSTILE_LINE, '{"trace_id": "\u001b[31m'),
  });
  const out = await build(root);
  const details = out.quarantine.map((q) => [q.reason, q.detail]);
  assert.deepEqual(details, [
    [
      'JSON_PARSE',
      `not valid JSON: unexpected character, at character 0 of ${HOSTILE_LINE.length} (control character U+001B)`,
    ],
    [
      'JSON_PARSE',
      'not valid JSON: bad control character in string literal, at character 14 of 19 (control character U+001B)',
    ],
  ]);
  for (const [, d] of details) {
    assert.doesNotMatch(d as string, RAW);
    assert.ok(!(d as string).includes('sk-live') && !(d as string).includes('pwned'));
  }
});

test('the logger is a backstop: a control sequence that reached any message is written escaped, line feeds kept', async () => {
  const { log } = await import('../../tasks/lib/log.ts');
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    log.error('bad file data/\x1b]0;pwned\x07x.jsonl\nsecond line\u202e');
    log.report('phase\x1b[2Jsummary');
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(written, [
    '✖ bad file data/\\u001b]0;pwned\\u0007x.jsonl\nsecond line\\u202e\n',
    'phase\\u001b[2Jsummary\n',
  ]);
});
