/**
 * The `npm test` reporter (node:test `--test-reporter`): one line per test file as it finishes,
 * the failures with their messages, and the total at the end, e.g.
 *
 *   ✔ [ 12/140  1:05] test/cli.test.ts  14 passed  3.4 s
 *   ✖ [ 13/140  1:07] test/x.test.ts  3 passed, 1 failed  2.1 s
 *       ✖ parses the header: Expected values to be strictly equal: 1 !== 2
 *   …
 *   tests: 1234 passed, 0 failed, 12 skipped
 *
 * What test files print (the child processes they run, e.g. release-freeze transcripts) is kept
 * out of the output: it is written to TRANSCRIPTS, and shown (its last lines) only for a file that
 * failed. The closing `tests: N passed, N failed` line is the plain form CI and release-freeze read
 * (tasks/gates/release/runners.ts parses it). Plain JavaScript: node loads a reporter before tsx's
 * hooks are in place. node's own TAP reporter printed ~3,600 lines with
 * every transcript inline; this keeps one line per file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';

/** Where the test files' own output goes (git-ignored, overwritten by every run). */
export const TRANSCRIPTS = '.distill/test-transcripts.log';
/** A compiled test file (bin/precompile.js): its path in the build, without `.js`. */
const COMPILED = /[\\/]node_modules[\\/]\.cache[\\/]distill[\\/][0-9a-f]{64}[\\/](.*)\.js$/;
/** Lines of a failed file's output shown under its failures. */
const TAIL = 30;


/** m:ss of a duration in ms. */
export function clock(ms) {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The first line of an error's message, without node's `[cause]` dumps. */
function errorText(e) {
  let err = e;
  // node wraps a test's error: ERR_TEST_FAILURE with the real one as `cause`
  if (err?.code === 'ERR_TEST_FAILURE' && err.cause) err = err.cause;
  const msg = String(err?.message ?? err ?? 'failed');
  const lines = msg.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(0, 6).join('\n        ');
}

/** The closing line: the plain `N passed, N failed, N skipped` form. */
/** @param {{passed: number, failed: number, skipped: number}} t */
export function totalLine(t) {
  return `tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/** The node:test reporter: an async generator from test events to lines of text. */
export default async function* reporter(source) {
  const cwd = process.cwd();
  const fileCount = process.argv.filter((a) => /\.test\.[cm]?[jt]s$/.test(a)).length;
  const started = performance.now();
  const files = new Map();
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const skipReasons = new Map();
  const failedNames = [];
  const transcript = [];
  let done = 0;
  // a test inside a file names the module it ran, the compiled copy under `npm test`
  // (test/helpers/compiled.mjs): named here by its source file, as the file itself is
  const rel = (f) => {
    if (!f) return '(no file)';
    const m = COMPILED.exec(f);
    return m ? `${m[1].split('\\').join('/')}.ts` : relative(cwd, f);
  };
  const state = (f) => {
    const key = rel(f);
    let s = files.get(key);
    if (!s) {
      s = { passed: 0, failed: 0, skipped: 0, failures: [], output: [], path: [], printed: false };
      files.set(key, s);
    }
    return s;
  };
  const concurrency = [...process.execArgv, ...process.argv].find((a) => a.startsWith('--test-concurrency='))?.split('=')[1] ?? 'several';
  const whole = fileCount > 20 ? ' (the whole suite takes about 5 min on 2 idle cores; README, "Tests")' : '';
  yield `running ${fileCount || 'the'} test files, ${concurrency} at a time${whole}\n`;
  const durations = new Map();
  let current = null;
  // node reports each file's tests as one block, files one after another, but a file's own
  // test:complete arrives when its process ends, out of that order: a file's line is printed when
  // the next file's block starts (or at the end), with the duration its test:complete gave.
  const fileLine = (key) => {
    const s = state(key);
    done++;
    const counts = [
      `${s.passed} passed`,
      ...(s.failed ? [`${s.failed} failed`] : []),
      ...(s.skipped ? [`${s.skipped} skipped`] : []),
    ].join(', ');
    const ms = durations.get(key);
    const secs = ms === undefined ? '' : `  ${(ms / 1000).toFixed(1)} s`;
    const where = `[${String(done).padStart(String(fileCount).length)}/${fileCount} ${clock(performance.now() - started).padStart(5)}]`;
    const lines = [`${s.failed ? '✖' : '✔'} ${where} ${key}  ${counts}${secs}`];
    if (s.failed) {
      lines.push(...s.failures);
      const out = s.output.join('').split('\n').filter(Boolean).slice(-TAIL);
      if (out.length)
        lines.push(
          `      its output (last ${out.length} lines; all of it in ${TRANSCRIPTS}):`,
          ...out.map((l) => `        ${l}`),
        );
    }
    s.printed = true;
    return `${lines.join('\n')}\n`;
  };
  for await (const { type, data } of source) {
    const isFile = data.file !== undefined && data.name === data.file;
    if (type === 'test:complete' && isFile) {
      durations.set(rel(data.file), data.details?.duration_ms ?? 0);
      state(data.file);
      continue;
    }
    if (['test:start', 'test:pass', 'test:fail'].includes(type) && data.file !== undefined) {
      const key = rel(data.file);
      if (current !== null && current !== key) yield fileLine(current);
      current = key;
    }
    switch (type) {
      case 'test:start':
        if (!isFile) state(data.file).path[data.nesting ?? 0] = data.name ?? '';
        break;
      case 'test:stdout':
      case 'test:stderr': {
        const text = data.message ?? '';
        state(data.file).output.push(text);
        transcript.push(`[${rel(data.file)} ${type === 'test:stdout' ? 'stdout' : 'stderr'}] ${text}`);
        break;
      }
      case 'test:pass': {
        if (isFile) break;
        const s = state(data.file);
        if (data.skip !== undefined || data.todo !== undefined) {
          s.skipped++;
          totals.skipped++;
          const why = typeof data.skip === 'string' ? data.skip : typeof data.todo === 'string' ? data.todo : '';
          skipReasons.set(why, (skipReasons.get(why) ?? 0) + 1);
        } else {
          s.passed++;
          totals.passed++;
        }
        break;
      }
      case 'test:fail': {
        // a parent whose only failure is a failed subtest: the subtest is the one to report
        if (data.details?.error?.failureType === 'subtestsFailed') break;
        const s = state(data.file);
        s.failed++;
        totals.failed++;
        const name = isFile
          ? '(the file itself: it did not load or run)'
          : [...s.path.slice(0, data.nesting ?? 0), data.name].join(' › ');
        s.failures.push(`      ✖ ${name}: ${errorText(data.details?.error)}`);
        failedNames.push(`${rel(data.file)} › ${name}`);
        break;
      }
      default:
        break;
    }
  }
  if (current !== null) yield fileLine(current);
  for (const [key, s] of files) if (!s.printed) yield fileLine(key);
  try {
    mkdirSync(dirname(TRANSCRIPTS), { recursive: true });
    writeFileSync(TRANSCRIPTS, transcript.join(''));
  } catch {
    // the transcript is a convenience; a read-only checkout still gets its verdict
  }
  const end = [''];
  if (skipReasons.size > 0) {
    end.push('skipped, by reason:');
    for (const [why, count] of [...skipReasons].sort((a, b) => b[1] - a[1]))
      end.push(`  ${count} × ${why || '(no reason given)'}`);
  }
  if (failedNames.length > 0) end.push('failed tests:', ...failedNames.map((f) => `  ✖ ${f}`));
  end.push(`${done} files in ${clock(performance.now() - started)}; test output of the files: ${TRANSCRIPTS}`);
  end.push(totalLine(totals));
  yield `${end.join('\n')}\n`;
}
