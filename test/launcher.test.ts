import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { REPO } from './helpers/project.ts';

/**
 * The `distill` launcher (bin/distill.js, bin/precompile.js, docs/architecture.md "How the code
 * runs"): it runs JavaScript compiled from tasks/ and schemas/, compiled again whenever a source
 * changes, with no TypeScript loader in the process or its worker threads.
 *
 * Each test works in a copy of the checkout whose node_modules holds links to the real packages
 * except tsx, so the copy's builds stay in the copy (node_modules/.cache/distill/) and any use of
 * tsx by compiled code would fail. The copy starts with the checkout's current build (found by
 * its content key), so only an edit compiles.
 */

// by URL from this file's source (import.meta.url names the .ts file): a compiled test file run
// without module hooks (test/helpers/run-tests.mjs) sits in the build, where bin/ is not
const { ensureBuild } = (await import(new URL('../bin/precompile.js', import.meta.url).href)) as {
  ensureBuild: () => Promise<string>;
};
const current = await ensureBuild();

const temps: string[] = [];
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function checkoutCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'distill-launcher-'));
  temps.push(dir);
  for (const f of ['package.json', 'tsconfig.json', 'distill.config.json', 'tasks', 'schemas', 'bin'])
    cpSync(join(REPO, f), join(dir, f), { recursive: true });
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (name === '.cache' || name === 'tsx') continue;
    symlinkSync(join(REPO, 'node_modules', name), join(dir, 'node_modules', name));
  }
  cpSync(current, join(dir, 'node_modules/.cache/distill', basename(current)), { recursive: true });
  return dir;
}

function builds(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'node_modules/.cache/distill')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

function distill(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(dir, 'bin/distill.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DISTILL_QUIET: '1', DISTILL_TSX: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function distillAsync(
  dir: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(dir, 'bin/distill.js'), ...args], {
      cwd: dir,
      env: { ...process.env, DISTILL_QUIET: '1', DISTILL_TSX: '' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const MAIN = 'tasks/cli/main.ts';

test('an edited .ts file takes effect on the next command, compiling that file only (the bytes of a full compile); an unchanged checkout reuses its build; builds hold no path of the checkout', () => {
  const dir = checkoutCopy();
  const first = distill(dir, ['--help']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^distill: /);
  assert.deepEqual(builds(dir), [basename(current)], 'the copy runs the build of the same sources');
  const [build] = builds(dir) as [string];
  const compiledMain = join(dir, 'node_modules/.cache/distill', build, 'tasks/cli/main.js');
  const before = statSync(compiledMain).mtimeMs;
  assert.equal(distill(dir, ['--help']).stdout, first.stdout);
  assert.deepEqual(builds(dir), [build], 'nothing changed: the same build, not compiled again');
  assert.equal(statSync(compiledMain).mtimeMs, before);
  const fingerprint = readFileSync(
    join(dir, 'node_modules/.cache/distill', build, 'tasks/lib/code-fingerprint.js'),
    'utf8',
  );
  assert.ok(!fingerprint.includes(dir), 'the compiled code names no path of the checkout');

  appendFileSync(join(dir, MAIN), "process.stdout.write('edited once\\n');\n");
  const edited = distill(dir, ['--help']);
  assert.equal(edited.code, 0, edited.stderr);
  assert.ok(edited.stdout.endsWith('edited once\n'), edited.stdout);
  // only the edited file was compiled: every other output is the earlier build's file (a hard
  // link), and the build is byte for byte what compiling every file from nothing gives
  const [next] = builds(dir).filter((b) => b !== build) as [string];
  const out = (b: string, f: string): string => join(dir, 'node_modules/.cache/distill', b, f);
  assert.equal(statSync(out(next, 'tasks/lib/log.js')).ino, statSync(out(build, 'tasks/lib/log.js')).ino);
  assert.notEqual(
    statSync(out(next, 'tasks/cli/main.js')).ino,
    statSync(out(build, 'tasks/cli/main.js')).ino,
  );
  const cold = checkoutCopy();
  rmSync(join(cold, 'node_modules/.cache'), { recursive: true });
  cpSync(join(dir, MAIN), join(cold, MAIN));
  assert.equal(distill(cold, ['--help']).stdout, edited.stdout);
  assert.deepEqual(builds(cold), [next], 'the same sources: the same build key');
  const tree = (root: string): Record<string, string> =>
    Object.fromEntries(
      (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[])
        .filter((f) => statSync(join(root, f)).isFile())
        .sort()
        .map((f) => [
          f,
          createHash('sha256')
            .update(readFileSync(join(root, f)))
            .digest('hex'),
        ]),
    );
  assert.deepEqual(
    tree(join(dir, 'node_modules/.cache/distill', next)),
    tree(join(cold, 'node_modules/.cache/distill', next)),
    'an incremental compile gives the bytes of a full one',
  );
  // a module the command loads later (lazily), edited too
  appendFileSync(join(dir, 'tasks/inspect/sniff.ts'), "process.stdout.write('sniff edited\\n');\n");
  const sniff = distill(dir, ['sniff', join(dir, 'package.json')]);
  assert.match(sniff.stdout, /sniff edited\n/);
  assert.equal(builds(dir).length, 3, 'one build per version of the code');
});

test('sources written just now are not trusted by their stats: no alias is kept for them, so a second same-size edit within the timestamp granularity is still seen', () => {
  const dir = checkoutCopy(); // every source of the copy was written a moment ago
  const aliases = (): string[] => {
    try {
      return readdirSync(join(dir, 'node_modules/.cache/distill/stat'));
    } catch {
      return [];
    }
  };
  assert.equal(distill(dir, ['--help']).code, 0);
  assert.deepEqual(aliases(), [], 'no stat alias for sources younger than the racy window');
  // on a filesystem with 1 s timestamps this edit keeps size, mtime, ctime and inode: only the
  // contents tell, and with no alias they are hashed
  const main = join(dir, MAIN);
  writeFileSync(main, `${readFileSync(main, 'utf8')}process.stdout.write('A\\n');\n`);
  assert.ok(distill(dir, ['--help']).stdout.endsWith('A\n'));
  writeFileSync(main, readFileSync(main, 'utf8').replace("write('A", "write('B"));
  assert.ok(distill(dir, ['--help']).stdout.endsWith('B\n'));
});

test('a compiled process reports the code fingerprint of the sources it was compiled from, even when they are edited while it runs', () => {
  const dir = checkoutCopy();
  const main = join(dir, MAIN);
  const text = readFileSync(main, 'utf8');
  const last = 'process.exitCode = await main(argv);';
  assert.ok(text.includes(last));
  // a command that edits a source while it runs (as an editor or a git checkout might during a
  // long run-all), then asks for the code fingerprint its caches and states are keyed by
  writeFileSync(
    main,
    text.replace(
      last,
      `if (process.env['DISTILL_TEST_FP']) {
  (await import('node:fs')).appendFileSync(new URL('../lib/log.ts', import.meta.url), '\\n// edited while a command ran\\n');
  process.stdout.write(\`FP \${(await import('../lib/code-fingerprint.ts')).codeFingerprint()}\\n\`);
} else ${last}`,
    ),
  );
  // the fingerprint of the copy's sources as they are now, computed through tsx
  const sourcesFingerprint = (): string => {
    const url = pathToFileURL(join(dir, 'tasks/lib/code-fingerprint.ts')).href;
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(url)}).then((m) => console.log(m.codeFingerprint()))`,
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const before = sourcesFingerprint();
  const r = distill(dir, ['--help'], { DISTILL_TEST_FP: '1' });
  assert.equal(r.code, 0, r.stderr);
  const after = sourcesFingerprint();
  assert.notEqual(after, before, 'the command edited a source');
  assert.equal(
    r.stdout,
    `FP ${before}\n`,
    'the fingerprint of the code that ran, not of the sources edited since',
  );
});

test('a compile prunes builds beyond the newest four that were not used within the hour, leaving no partial tree behind', () => {
  const dir = checkoutCopy();
  const cache = join(dir, 'node_modules/.cache/distill');
  // six builds last used two to seven hours ago (the newest first)
  const old = [2, 3, 4, 5, 6, 7].map((h) => {
    const name = createHash('sha256').update(`old build ${h}`).digest('hex');
    mkdirSync(join(cache, name, 'tasks'), { recursive: true });
    writeFileSync(join(cache, name, 'tasks', 'x.js'), '');
    const t = new Date(Date.now() - h * 3600 * 1000);
    utimesSync(join(cache, name), t, t);
    return name;
  });
  appendFileSync(join(dir, MAIN), '// edited: compiled again, then pruned\n');
  assert.equal(distill(dir, ['--help']).code, 0);
  const left = builds(dir);
  // the new build and the copy's current one (used just now), then the two most recently used old ones
  assert.equal(left.length, 4, left.join(' '));
  assert.ok(left.includes(basename(current)));
  assert.deepEqual(
    old.filter((n) => left.includes(n)),
    old.slice(0, 2),
  );
  assert.deepEqual(
    readdirSync(cache).filter((n) => n.startsWith('tmp-')),
    [],
  );
});

test('two commands starting at once on stale code both compile or reuse it and both run it; nothing is left half-written', async () => {
  const dir = checkoutCopy();
  appendFileSync(join(dir, MAIN), "process.stdout.write('raced\\n');\n");
  const [a, b] = await Promise.all([distillAsync(dir, ['--help']), distillAsync(dir, ['--help'])]);
  for (const r of [a, b]) {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith('raced\n'), r.stdout);
  }
  assert.equal(builds(dir).length, 2, 'the edit compiled once');
  const left = readdirSync(join(dir, 'node_modules/.cache/distill')).filter(
    (n) => n !== 'stat' && !/^[0-9a-f]{64}$/.test(n),
  );
  assert.deepEqual(left, [], 'no temp folder left behind');
});

test('a source that does not compile: a command that loads it says which file and line, exit 70; a command that does not load it runs', () => {
  const dir = checkoutCopy();
  appendFileSync(join(dir, 'tasks/inspect/sniff.ts'), '\nconst = ;\n');
  const help = distill(dir, ['--help']);
  assert.equal(help.code, 0, help.stderr);
  const sniff = distill(dir, ['sniff', join(dir, 'package.json')]);
  assert.notEqual(sniff.code, 0);
  assert.match(sniff.stderr, /tasks\/inspect\/sniff\.ts does not compile/);
  assert.match(sniff.stderr, /tasks\/inspect\/sniff\.ts:\d+:\d+: /);

  appendFileSync(join(dir, MAIN), '\nlet x: = 1;\n');
  const broken = distill(dir, ['--help']);
  assert.equal(broken.code, 70);
  assert.match(
    broken.stderr,
    /^distill: tasks\/cli\/main\.ts does not compile:\ntasks\/cli\/main\.ts:\d+:\d+: /,
  );
});

test('worker threads run the compiled code too: build-evidence with two threads, tsx not installed', () => {
  const dir = checkoutCopy();
  const root = mkdtempSync(join(tmpdir(), 'distill-launcher-root-'));
  temps.push(root);
  cpSync(join(REPO, 'test/fixtures/acceptance/distill.config.json'), join(root, 'distill.config.json'));
  cpSync(join(REPO, 'test/fixtures/acceptance/data'), join(root, 'data'), { recursive: true });
  const r = distill(dir, ['build-evidence', '--root', root], {
    DISTILL_THREADS: '2',
    DISTILL_WORKER_MIN_BYTES: '0',
    DISTILL_WORKERS_AFTER: '0',
    DISTILL_BATCH_CHARS: '4096',
  });
  // a thread that could not load its module (a .ts file without tsx) fails the phase
  assert.equal(r.code, 0, r.stderr);
  assert.ok(statSync(join(root, 'data/evidence/_manifest.json')).isFile());
  // and with DISTILL_TSX=1 the launcher needs tsx: here it is missing, so it fails
  assert.notEqual(distill(dir, ['--help'], { DISTILL_TSX: '1' }).code, 0);
});

test('DISTILL_TSX=1 runs the TypeScript through tsx, with the same result', () => {
  const compiled = distill(REPO, ['help', 'export-sft']);
  const tsx = distill(REPO, ['help', 'export-sft'], { DISTILL_TSX: '1' });
  assert.equal(compiled.code, 0, compiled.stderr);
  assert.equal(tsx.code, 0, tsx.stderr);
  assert.equal(tsx.stdout, compiled.stdout);
});

test("run-all's bookkeeping steps (--begin, --collect) run from a bundle of the build, rebuilt when a source or a package it holds changes", () => {
  const dir = checkoutCopy();
  const [build] = builds(dir) as [string];
  const cache = join(dir, 'node_modules/.cache/distill');
  rmSync(join(cache, build, 'bundles'), { recursive: true, force: true });
  // a package of the copy's own (not a link to the checkout's), to edit below
  const pkg = join(dir, 'node_modules/fastest-levenshtein');
  rmSync(pkg);
  cpSync(join(REPO, 'node_modules/fastest-levenshtein'), pkg, { recursive: true, dereference: true });
  // files written less than 3 s ago are not trusted by their stats (no record is kept: bundled
  // again at the next start), as for the sources; these are made older
  const age = (path: string, hours: number): void => {
    const t = new Date(Date.now() - hours * 3600 * 1000);
    if (statSync(path).isDirectory())
      for (const f of readdirSync(path, { recursive: true, encoding: 'utf8' }) as string[])
        utimesSync(join(path, f), t, t);
    utimesSync(path, t, t);
  };
  age(pkg, 2);
  utimesSync(join(dir, 'node_modules'), new Date(Date.now() - 3600e3), new Date(Date.now() - 3600e3));
  const root = mkdtempSync(join(tmpdir(), 'distill-launcher-root-'));
  temps.push(root);
  cpSync(join(REPO, 'test/fixtures/acceptance/distill.config.json'), join(root, 'distill.config.json'));
  cpSync(join(REPO, 'test/fixtures/acceptance/data'), join(root, 'data'), { recursive: true });
  const begin = (env: NodeJS.ProcessEnv = {}) => distill(dir, ['run-all', '--begin', '--root', root], env);

  const first = begin();
  assert.equal(first.code, 0, first.stderr);
  const bundle = join(cache, build, 'bundles/run-all.js');
  assert.ok(statSync(bundle).isFile(), 'built on first use');
  // marked, to see which code runs: the bundle for --begin and --collect, not for other commands
  // or with DISTILL_BUNDLE=0
  appendFileSync(bundle, "\nprocess.stderr.write('from the bundle\\n');\n");
  assert.match(begin().stderr, /from the bundle/);
  const collect = (env: NodeJS.ProcessEnv = {}) =>
    distill(dir, ['run-all', '--collect', '--root', root], env);
  const bundled = collect();
  assert.match(bundled.stderr, /from the bundle/);
  const perFile = collect({ DISTILL_BUNDLE: '0' });
  assert.doesNotMatch(perFile.stderr, /from the bundle/);
  // the same report (nothing built in this root: every phase "not built", exit 1), run ids and times aside
  const norm = (s: string): string =>
    s
      .replace(/\d{8}T\d{6}Z-[0-9a-z]+/g, 'RUN')
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T')
      .replace(/took [\d.]+ s/g, 'took');
  assert.equal(bundled.code, 1, bundled.stderr);
  assert.equal(perFile.code, 1, perFile.stderr);
  assert.match(perFile.stdout + perFile.stderr, /not built/);
  assert.equal(norm(bundled.stdout), norm(perFile.stdout));
  assert.doesNotMatch(begin({ DISTILL_BUNDLE: '0' }).stderr, /from the bundle/);
  // zod's messages (its locales are left out of the bundle, its English messages are not)
  const bad = mkdtempSync(join(tmpdir(), 'distill-launcher-root-'));
  temps.push(bad);
  const config = JSON.parse(readFileSync(join(root, 'distill.config.json'), 'utf8')) as {
    schema_version: unknown;
    sources: { adapter: unknown }[];
  };
  config.schema_version = 'x';
  (config.sources[0] as { adapter: unknown }).adapter = 5;
  writeFileSync(join(bad, 'distill.config.json'), JSON.stringify(config));
  const refusedBundled = distill(dir, ['run-all', '--begin', '--root', bad]);
  const refused = distill(dir, ['run-all', '--begin', '--root', bad], { DISTILL_BUNDLE: '0' });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /schema_version: Invalid input: expected 1/);
  assert.equal(refusedBundled.stderr.replace('from the bundle\n', ''), refused.stderr);
  assert.equal(refusedBundled.code, refused.code);
  assert.doesNotMatch(distill(dir, ['run-all', '--help']).stderr, /from the bundle/);

  // a package file it holds, edited in place: bundled again
  appendFileSync(join(pkg, 'esm/mod.js'), "\nprocess.stderr.write('package edited\\n');\n");
  const edited = begin();
  assert.equal(edited.code, 0, edited.stderr);
  assert.match(edited.stderr, /package edited/);
  assert.doesNotMatch(edited.stderr, /from the bundle/);
  // edited just now: no record kept, so the next start bundles again (a second edit of the same
  // size within the filesystem's timestamp granularity is seen too)
  const meta = join(cache, build, 'bundles/run-all.json');
  assert.ok(!existsSync(meta));
  appendFileSync(bundle, "\nprocess.stderr.write('from the bundle\\n');\n");
  assert.doesNotMatch(begin().stderr, /from the bundle/);
  // once older, the record is kept
  age(pkg, 1);
  assert.equal(begin().code, 0);
  assert.ok(existsSync(meta));
  // the bundle gone (a hand clean-up), its record left: bundled again, not a failed import
  rmSync(bundle);
  const gone = begin();
  assert.equal(gone.code, 0, gone.stderr);
  assert.ok(existsSync(bundle) && existsSync(meta));
  // a package replaced (not edited) by another copy: bundled again
  appendFileSync(bundle, "\nprocess.stderr.write('from the bundle\\n');\n");
  const moved = `${pkg}-old`;
  cpSync(pkg, moved, { recursive: true });
  rmSync(pkg, { recursive: true });
  cpSync(join(REPO, 'node_modules/fastest-levenshtein'), pkg, { recursive: true, dereference: true });
  age(pkg, 3);
  const replaced = begin();
  assert.doesNotMatch(replaced.stderr, /package edited|from the bundle/);
  // a source it holds: a new build, with its own bundle
  appendFileSync(join(dir, 'tasks/run/begin.ts'), "process.stderr.write('begin edited\\n');\n");
  const source = begin();
  assert.equal(source.code, 0, source.stderr);
  assert.match(source.stderr, /begin edited/);
  const [next] = builds(dir).filter((b) => b !== build) as [string];
  assert.ok(statSync(join(cache, next, 'bundles/run-all.js')).isFile());
});

test('only run-all with --begin or --collect runs from the bundle', async () => {
  const { bundleFor } = (await import(new URL('../bin/precompile.js', import.meta.url).href)) as {
    bundleFor: (argv: string[]) => string | null;
  };
  assert.equal(bundleFor(['run-all', '--begin']), 'run-all');
  assert.equal(bundleFor(['run-all', '--root', '/x', '--collect', '--json']), 'run-all');
  assert.equal(bundleFor(['run-all']), null, 'run-all in one process runs every phase: not bundled');
  assert.equal(bundleFor(['run-all', '--root', '--begin']), null, 'a value of --root');
  assert.equal(bundleFor(['score', '--begin']), null);
  assert.equal(bundleFor([]), null);
});
