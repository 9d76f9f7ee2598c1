// Precompiled JavaScript of tasks/ and schemas/ for the `distill` launcher (bin/distill.js).
//
// Running the TypeScript through tsx costs every process ~0.3 s before any work and makes every
// import go through tsx's off-thread loader hooks (an export with nothing to do spent ~0.95 s of
// its 1.5 s importing, docs/performance.md). The launcher instead runs plain JavaScript that
// esbuild (the transpiler tsx itself uses) wrote from the sources, and writes it first when it is
// missing or stale. Plain JavaScript: this file must run before anything is compiled.
//
// File by file, not bundled: each .ts becomes one .js at the same relative path in a mirror tree,
// so the module graph is the one tsx runs (the same module instances, every lazy `import()` of the
// CLI still loads only when reached, no chunking to reason about), a worker thread's entry
// (`new URL('./worker.ts', import.meta.url)`) maps to its compiled file by path alone, and an
// edit recompiles in well under a second. Bundling would save part of the module resolution;
// measured, the mirror tree already takes start-up to within ~0.1 s of `node -e 0`
// (docs/performance.md, "Issue #22: precompiled CLI"). The exception is run-all's bookkeeping
// steps, which start on every `npm run` and load ~190 modules: they run from a bundle of the
// build's own files (ensureBundle, below).
//
// - `import.meta.url` keeps meaning the source file: esbuild replaces it with the .ts file's URL
//   in the checkout that runs it (the launcher's record, useBuild), so paths next to the code,
//   createRequire, CODE_ROOT and the worker entries resolve as under tsx. The output holds no
//   path of the checkout: a copy of it (the tests' temp projects) with the same node_modules runs
//   the same build. Bare imports resolve from the build's place inside node_modules/.
// - Relative imports of `.ts` files are rewritten to `.js` (esbuild leaves specifiers alone).
// - Each file has a source map beside it, read only with `node --enable-source-maps` (e.g.
//   NODE_OPTIONS=--enable-source-maps npx distill …): then stack traces name the .ts lines. Off by
//   default, as loading the maps costs start-up time.
// - The build lives in node_modules/.cache/distill/<key>/, outside every wireit input or output
//   and every dataset; <key> is a sha256 of the sources (paths and contents), this file, the
//   tsconfig and esbuild's version. Start-up first checks a key of the checkout's path and the
//   files' stats (path, size, mtime, ctime, inode), which names the content key it was last seen
//   with; when none does, the sources are hashed. Never trusted otherwise: an edit changes the stats,
//   except a second same-size edit within the filesystem's timestamp granularity, so no alias is
//   kept while a source is younger than RACY_MS (those starts hash the sources, ~tens of ms).
// - Written to a temp dir and renamed into place: two processes compiling at once both succeed
//   (the second rename finds the build there and drops its own copy).
// - Old builds are pruned after each compile: the newest KEEP are kept, and any used within
//   KEEP_USED_MS (every start touches its build, and a running CLI every few minutes: a
//   long-running process may still import from its build, tasks/lib/compiled.ts). A build is
//   renamed away before it is deleted (never half there under its name), and put back when a
//   start touched it in between (a start touches its build before checking that it exists).

import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The checkout: the folder above bin/. */
export const REPO = fileURLToPath(new URL('..', import.meta.url));
/** The folders compiled (what tasks/lib/code-fingerprint.ts hashes). */
const SOURCE_DIRS = ['tasks', 'schemas'];
/** Where builds live. */
export const CACHE_DIR = join(REPO, 'node_modules', '.cache', 'distill');
const KEEP = 4;
const KEEP_USED_MS = 3600 * 1000;
/** The global through which compiled code learns where it runs from (tasks/lib/compiled.ts). */
export const COMPILED_KEY = Symbol.for('distill.compiled');

/** Every .ts file under `dirs` (default tasks/ and schemas/), relative POSIX paths, sorted. */
function sourceFiles(dirs = SOURCE_DIRS) {
  const out = [];
  const walk = (rel) => {
    const ents = readdirSync(join(REPO, rel), { withFileTypes: true });
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}

/** What besides the sources decides the compiled output. */
function toolchain() {
  let esbuild = 'missing';
  try {
    // where npm puts it (a direct dependency); resolving it costs ~15 ms of start-up
    esbuild = JSON.parse(readFileSync(join(REPO, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  } catch {
    try {
      const req = createRequire(import.meta.url);
      esbuild = JSON.parse(readFileSync(req.resolve('esbuild/package.json'), 'utf8')).version;
    } catch {
      // reported when compiling
    }
  }
  return [
    `esbuild ${esbuild}`,
    `launcher ${createHash('sha256')
      .update(readFileSync(fileURLToPath(import.meta.url)))
      .digest('hex')}`,
    `tsconfig ${readFileSync(join(REPO, 'tsconfig.json'), 'utf8')}`,
  ].join('\n');
}

/**
 * The stat key: changes whenever a source file is added, removed or written, except for a write
 * within the timestamp granularity of the last one (same size, in place): `newest` is the latest
 * mtime / ctime seen, and an alias is only recorded for stats older than RACY_MS (see ensureBuild).
 */
function statKey(files, tools) {
  const h = createHash('sha256').update(`${REPO}\0${tools}`);
  let newest = 0;
  for (const f of files) {
    // milliseconds with a fraction (sub-microsecond on the usual filesystems); bigint stats cost ~4× more
    const s = statSync(join(REPO, f));
    h.update(`\0${f}\0${s.size}\0${s.mtimeMs}\0${s.ctimeMs}\0${s.ino}`);
    newest = Math.max(newest, s.mtimeMs, s.ctimeMs);
  }
  return { key: h.digest('hex'), newest };
}

/**
 * How much older than the alias the newest source stat must be for the alias to be trusted ("racy
 * git"): on a filesystem with coarse timestamps (1 s on ext3 / HFS+ / FAT, 2 s on FAT's mtime, a
 * clock tick elsewhere) a second edit of the same size soon after the first leaves every stat as it
 * was, and an alias written in between would keep serving the build of the first edit.
 */
const RACY_MS = 3000;

/**
 * The content key of the sources (their paths and bytes, and the toolchain), the bytes themselves
 * (compiled as read here, so a build never holds other bytes than its key says, even when a file
 * is written meanwhile), and their code fingerprint: tasks/lib/code-fingerprint.ts's hash of the
 * same bytes, which a compiled process reports as its code instead of hashing the sources again
 * (they may have been edited since this process compiled or chose its build).
 */
function readSources(files, tools) {
  const h = createHash('sha256').update(tools);
  const fp = createHash('sha256');
  const bytes = new Map();
  for (const f of files) {
    const b = readFileSync(join(REPO, f));
    bytes.set(f, b);
    h.update(`\0${f}\0`);
    h.update(b);
    // the code fingerprint is of the product's code alone (tasks/, schemas/), whatever else this
    // build compiles (npm test's build holds test/ too, and its processes enqueue jobs for workers
    // that run the launcher's build: both must report the same code)
    if (SOURCE_DIRS.some((d) => f.startsWith(`${d}/`))) {
      fp.update(`${f}\u0000`);
      fp.update(b);
    }
  }
  return {
    key: h.digest('hex'),
    bytes,
    fingerprint: fp.digest('hex'),
    toolsHash: createHash('sha256').update(tools).digest('hex'),
  };
}

/** The file of a build holding the code fingerprint of its sources (tasks/lib/compiled.ts reads it). */
export const FINGERPRINT_FILE = 'code-fingerprint';

/** The per-module constant that stands for `import.meta.url` in compiled code. */
const META_URL = '__distill_import_meta_url';
const META_FILE = '__distill_import_meta_filename';
const META_DIR = '__distill_import_meta_dirname';

/** Writes `text` to `path` through a temp file and a rename. */
function writeAtomic(path, text) {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Rewrites the relative `.ts` specifiers of esbuild's output (its own normalised `from "…"` / `import("…")`). */
function rewriteImports(code) {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"(\.\.?\/[^"\n]*?)\.ts"/g,
    (_, head, spec) => `${head}"${spec}.js"`,
  );
}

/**
 * The file of a build naming what each of its files was compiled from: the toolchain's hash and
 * each source's sha256 (relative paths only). A later compile with the same toolchain takes the
 * output of every source whose bytes are unchanged from the newest build that has it (a hard link:
 * a build is never written after it is renamed into place), and compiles only the others: an
 * edit of one file compiles one file, not all of them (~0.2 s instead of ~1.5 s of CPU).
 */
const SOURCES_FILE = 'sources.json';

/** The compiled output of source `f` (relative path) in build `dir`: the module and its map. */
const outputs = (dir, f) => {
  const js = join(dir, f.replace(/\.ts$/, '.js'));
  return [js, `${js}.map`];
};

/**
 * The newest other build compiled with the same toolchain: its folder and its sources' hashes
 * (relative path → sha256), or null. A build from before SOURCES_FILE, or unreadable, is skipped.
 */
function donorBuild(toolsHash, dest) {
  let best = null;
  let names = [];
  try {
    names = readdirSync(CACHE_DIR);
  } catch {
    return null;
  }
  for (const n of names) {
    const dir = join(CACHE_DIR, n);
    if (!/^[0-9a-f]{64}$/.test(n) || dir === dest) continue;
    try {
      const t = statSync(dir).mtimeMs;
      if (best && t <= best.t) continue;
      const rec = JSON.parse(readFileSync(join(dir, SOURCES_FILE), 'utf8'));
      if (rec.tools === toolsHash && rec.files && typeof rec.files === 'object')
        best = { dir, t, files: rec.files };
    } catch {
      // no record (an older build), or pruned meanwhile
    }
  }
  return best;
}

/** Links the outputs of `f` from build `from` into `to`; false when any is missing (pruned meanwhile). */
function reuse(from, to, f) {
  const src = outputs(from, f);
  const dst = outputs(to, f);
  try {
    mkdirSync(dirname(dst[0]), { recursive: true });
    for (let i = 0; i < src.length; i++) linkSync(src[i], dst[i]);
    return true;
  } catch {
    for (const d of dst) rmSync(d, { force: true });
    return false;
  }
}

/** Compiles every source into a temp dir (reusing the unchanged ones' output of an earlier build), then renames it to `dest`. */
async function compile(files, dest, sources) {
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = join(CACHE_DIR, `tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(tmp);
  try {
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(tmp, FINGERPRINT_FILE), `${sources.fingerprint}\n`);
    const hashes = Object.fromEntries(
      files.map((f) => [f, createHash('sha256').update(sources.bytes.get(f)).digest('hex')]),
    );
    const donor = donorBuild(sources.toolsHash, dest);
    const todo = files.filter((f) => !(donor && donor.files[f] === hashes[f] && reuse(donor.dir, tmp, f)));
    let esbuild;
    if (todo.length > 0)
      try {
        esbuild = await import('esbuild');
      } catch (e) {
        throw new Error(`distill: cannot load esbuild to compile the sources (${e.message}); run npm ci`);
      }
    await Promise.all(
      todo.map(async (f) => {
        const out = join(tmp, f.replace(/\.ts$/, '.js'));
        const source = sources.bytes.get(f).toString('utf8');
        // the source file's URL in the checkout that runs the build (set by useBuild before any import)
        const url = `new URL(${JSON.stringify(f)}, globalThis[Symbol.for("distill.compiled")].src)`;
        const banner = [
          source.includes('import.meta.url') ? `const ${META_URL} = ${url}.href;` : '',
          // import.meta.filename / dirname (Node 20.11+) mean the source file and its folder too
          source.includes('import.meta.filename') || source.includes('import.meta.dirname')
            ? `const ${META_FILE} = decodeURIComponent(${url}.pathname), ${META_DIR} = ${META_FILE}.replace(/\\/[^/]*$/, '');`
            : '',
        ].join('');
        mkdirSync(dirname(out), { recursive: true });
        let code;
        try {
          const r = await esbuild.transform(source, {
            loader: 'ts',
            format: 'esm',
            target: 'node20',
            // the map names the source relative to itself: <build>/<f>.map → the checkout's <f>
            sourcefile: `${'../'.repeat(f.split('/').length - 1 + 4)}${f}`,
            sourcemap: 'external',
            sourcesContent: false,
            banner,
            define: {
              'import.meta.url': META_URL,
              'import.meta.filename': META_FILE,
              'import.meta.dirname': META_DIR,
            },
            tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, target: 'ES2023' } },
            logLevel: 'silent',
          });
          // same length (.ts → .js): the source map's columns stay right
          code = `${rewriteImports(r.code)}//# sourceMappingURL=${basename(out)}.map\n`;
          writeFileSync(`${out}.map`, r.map);
        } catch (e) {
          // as under tsx, a file that does not compile fails the command that loads it, and only
          // that one: its module throws the compiler's messages when imported
          const msgs = e.errors?.length
            ? e.errors.map((m) => `${f}:${m.location?.line ?? 0}:${(m.location?.column ?? 0) + 1}: ${m.text}`)
            : [`${f}: ${e.message}`];
          const message = `distill: ${f} does not compile:\n${msgs.join('\n')}`;
          code = `const e = new SyntaxError(${JSON.stringify(message)});\ne.distillCompileError = true;\nthrow e;\n`;
        }
        writeFileSync(out, code);
      }),
    );
    // written last: a build with this record holds every output it names
    writeFileSync(
      join(tmp, SOURCES_FILE),
      `${JSON.stringify({ tools: sources.toolsHash, files: hashes })}\n`,
    );
    try {
      renameSync(tmp, dest);
    } catch (e) {
      // another process put the same build there first: it is complete (renamed whole), use it
      if (!existsSync(dest)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Removes a build: first renamed away whole (a start that finds it by name then finds all of it or
 * nothing, never a half-deleted tree; a prune killed midway leaves a tmp- folder, removed later),
 * and put back when a start marked it as used after it was chosen for removal.
 */
function removeBuild(path) {
  const trash = join(CACHE_DIR, `tmp-prune-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    renameSync(path, trash);
  } catch {
    return; // gone already, or another process removes it
  }
  try {
    if (Date.now() - statSync(trash).mtimeMs < KEEP_USED_MS) {
      renameSync(trash, path);
      return;
    }
  } catch {
    // removed below
  }
  rmSync(trash, { recursive: true, force: true });
}

/** Removes builds beyond the newest KEEP that were not used within KEEP_USED_MS, and stale temp dirs and aliases. */
function prune(current) {
  let names;
  try {
    names = readdirSync(CACHE_DIR);
  } catch {
    return;
  }
  const now = Date.now();
  const builds = [];
  for (const n of names) {
    const p = join(CACHE_DIR, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (n.startsWith('tmp-')) {
      if (now - st.mtimeMs > 3600 * 1000) rmSync(p, { recursive: true, force: true });
    } else if (/^[0-9a-f]{64}$/.test(n) && st.isDirectory()) builds.push({ n, p, t: st.mtimeMs });
  }
  builds.sort((a, b) => b.t - a.t);
  const kept = new Set();
  builds.forEach((b, i) => {
    if (b.n === current || i < KEEP || now - b.t < KEEP_USED_MS) kept.add(b.n);
    else removeBuild(b.p);
  });
  const aliases = join(CACHE_DIR, 'stat');
  try {
    for (const a of readdirSync(aliases)) {
      let target = '';
      try {
        target = readFileSync(join(aliases, a), 'utf8').trim();
      } catch {
        continue;
      }
      // an alias of a build that is gone, or written a day ago (a test's temp copy; a checkout in use
      // writes its alias again at its next start, after hashing the sources)
      let old = false;
      try {
        old = now - statSync(join(aliases, a)).mtimeMs > 24 * 3600 * 1000;
      } catch {
        continue;
      }
      if (!kept.has(target) || old) rmSync(join(aliases, a), { force: true });
    }
  } catch {
    // no aliases yet
  }
}

/**
 * The compiled build of the current sources: its folder, compiled first when missing. A source
 * that does not compile becomes a module that throws its errors when loaded (err.distillCompileError).
 */
export async function ensureBuild({ dirs = SOURCE_DIRS } = {}) {
  const files = sourceFiles(dirs);
  const tools = toolchain();
  const { key: sk, newest } = statKey(files, tools);
  const alias = join(CACHE_DIR, 'stat', sk);
  try {
    const key = readFileSync(alias, 'utf8').trim();
    const dir = join(CACHE_DIR, key);
    // marked as used before it is checked: a prune that chose it earlier then puts it back (removeBuild)
    if (/^[0-9a-f]{64}$/.test(key) && touch(dir) && existsSync(dir)) return dir;
  } catch {
    // not seen with these stats: hash the contents
  }
  const sources = readSources(files, tools);
  const key = sources.key;
  const dir = join(CACHE_DIR, key);
  if (!(touch(dir) && existsSync(dir))) {
    await compile(files, dir, sources);
    try {
      prune(key);
    } catch {
      // another process removing the same old folders at once: pruning is only less thorough
    }
  }
  mkdirSync(dirname(alias), { recursive: true });
  writeAtomic(alias, `${key}\n`);
  // a source written just now (by the filesystem's clock, the alias's mtime) may be written again
  // without its stats changing: not trusted by stats until it is older (the next start hashes again)
  try {
    if (statSync(alias).mtimeMs - newest < RACY_MS) rmSync(alias, { force: true });
  } catch {
    // the alias is only a shortcut
  }
  return dir;
}

/**
 * The commands run from a bundle, and the dynamic imports of tasks/cli/commands.ts each keeps (the
 * rest of the command table is cut out of it). `run-all --begin` and `run-all --collect` start on
 * every `npm run` of a phase and at the end of every `npm run run-all`: as ~190 separate modules
 * (zod's 95, globby's ~25, ~45-70 of ours), loading them was most of each process's CPU; as one
 * file begin takes about a third less CPU, collect a fifth less (docs/performance.md, "Issue #22:
 * the no-op, a bundle for the bookkeeping steps").
 */
const BUNDLES = {
  'run-all': ['../run/begin.js', '../run/run-all.js', './phase-kit.js'],
};

/**
 * The bundle to run for these CLI arguments (a name of BUNDLES), or null for the per-file build:
 * `run-all` with `--begin` or `--collect` (the bookkeeping steps of a wireit build), unless
 * DISTILL_BUNDLE=0, or source maps are on (the bundle has none; the per-file build does).
 */
export function bundleFor(argv) {
  const v = process.env['DISTILL_BUNDLE'];
  if (v === '0') return null;
  const opts = `${process.env['NODE_OPTIONS'] ?? ''} ${process.execArgv.join(' ')}`;
  if (/--enable-source-maps\b/.test(opts)) return null;
  if (argv[0] !== 'run-all') return null;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') i++;
    else if (a === '--begin' || a === '--collect') return 'run-all';
  }
  return null;
}

/**
 * The bundle `name` of build `dir`: `<dir>/bundles/<name>.js`, one ESM file holding the CLI's entry
 * with the modules that command can load (the build's compiled files, so `import.meta.url` keeps
 * meaning each source file, and the packages they import: zod, globby, ...). Built on first use
 * from the build's files (esbuild, ~0.3 s of CPU), and built again when the packages it holds may
 * have changed: `<name>.json`, written after the bundle, records the size and mtime of every file
 * it took from outside the build, of the node_modules folders they were found in and of
 * node_modules/.package-lock.json (which npm rewrites on every install), and a start checks them
 * (~125 stats: 2.5–9 ms at a load of 9). The build's own files never change (content key).
 * Throws when it cannot be built (the launcher then runs the per-file build).
 */
export async function ensureBundle(build, name) {
  // real paths: esbuild names its inputs by them (node_modules may be a link)
  const dir = realpathSync(build);
  const out = join(dir, 'bundles', `${name}.js`);
  const metaPath = join(dir, 'bundles', `${name}.json`);
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (
      Array.isArray(meta.inputs) &&
      meta.inputs.every(([f, size, mtime]) => sameStat(dir, f, size, mtime)) &&
      existsSync(out)
    )
      return out;
  } catch {
    // not built yet, or unreadable: built below
  }
  // before bundling (~0.3 s of CPU): a folder that cannot be written fails here, not after; and
  // the filesystem's time now, which every input changed after esbuild reads it will be past
  mkdirSync(join(dir, 'bundles'), { recursive: true });
  const stamp = `${out}.start-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let started;
  try {
    writeFileSync(stamp, '');
    started = statSync(stamp).mtimeMs;
  } finally {
    rmSync(stamp, { force: true });
  }
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new Error(`cannot load esbuild (${e.message})`);
  }
  const keep = new Set(BUNDLES[name]);
  const commands = join(dir, 'tasks', 'cli', 'commands.js');
  const r = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: [join(dir, 'tasks', 'cli', 'main.js')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // a package's ES module build where it has one (jsonc-parser's UMD build requires its files
    // by computed names, which a bundle cannot hold)
    mainFields: ['module', 'main'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    // the CommonJS packages inlined (fast-glob, ...) require node's built-in modules
    banner: {
      js: "import { createRequire as __distillCreateRequire } from 'node:module'; const require = __distillCreateRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'distill-command-subset',
        setup(b) {
          // another command's module: never reached by this bundle's commands (bundleFor), and
          // an error that says so if it were
          b.onResolve({ filter: /.*/ }, (a) =>
            a.kind === 'dynamic-import' && a.importer === commands && !keep.has(a.path)
              ? { path: a.path, namespace: 'distill-not-bundled' }
              : undefined,
          );
          // zod's 64 translations of its messages (`z.locales`, a third of the bundle): no code
          // here uses them (its English messages are imported apart; test/compiled-guard.test.ts)
          b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
            /[\\/]node_modules[\\/]zod[\\/]/.test(a.importer)
              ? { path: 'zod-locales', namespace: 'distill-empty' }
              : undefined,
          );
          b.onLoad({ filter: /.*/, namespace: 'distill-empty' }, () => ({
            contents: 'export {};\n',
            loader: 'js',
          }));
          // a package that finds files next to its code (a worker's entry by import.meta.url,
          // __dirname) stays a package node loads (hasha's hashing thread): its entry decides
          b.onResolve({ filter: /^[^./]/ }, async (a) => {
            if (a.path.startsWith('node:') || a.pluginData === 'distill-resolving') return undefined;
            const r = await b.resolve(a.path, {
              kind: a.kind,
              importer: a.importer,
              resolveDir: a.resolveDir,
              pluginData: 'distill-resolving',
            });
            if (r.errors.length > 0 || r.external || !r.path) return undefined;
            if (LOCATES_ITSELF.test(readFileSync(r.path, 'utf8'))) return { path: a.path, external: true };
            return { path: r.path, namespace: r.namespace, sideEffects: r.sideEffects, suffix: r.suffix };
          });
          // and any other package file that does: not bundled at all (the per-file build runs)
          b.onLoad({ filter: /[\\/]node_modules[\\/]/ }, (a) => {
            if (!a.path.startsWith(`${dir}${sep}`) && LOCATES_ITSELF.test(readFileSync(a.path, 'utf8')))
              return { errors: [{ text: `${a.path} locates files by its own path` }] };
            return undefined;
          });
          b.onLoad({ filter: /.*/, namespace: 'distill-not-bundled' }, (a) => ({
            contents: `throw new Error(${JSON.stringify(`distill: ${a.path} is not in the ${name} bundle (bin/precompile.js)`)});\n`,
            loader: 'js',
          }));
        },
      },
    ],
  });
  // every package file it holds, the node_modules folders they were found in and the one bare
  // imports start from (a package added, removed or replaced there changes the folder's mtime),
  // and npm's record of the install
  const files = Object.keys(r.metafile.inputs).filter((f) => f.startsWith('..')); // not the build's own
  // by its real path: checkouts that link one node_modules share its builds, and record the same
  const modules = realpathSync(join(REPO, 'node_modules'));
  const folders = new Set([relative(dir, modules)]);
  for (const f of files) {
    const i = f.lastIndexOf('node_modules/');
    if (i >= 0) folders.add(f.slice(0, i + 'node_modules'.length));
  }
  const lock = relative(dir, join(modules, '.package-lock.json'));
  const inputs = [];
  for (const f of [...files, ...folders, lock]) {
    try {
      const s = statSync(join(dir, f));
      inputs.push([f, s.size, s.mtimeMs]);
    } catch (e) {
      if (f !== lock) throw e;
    }
  }
  rmSync(metaPath, { force: true });
  writeAtomic(out, r.outputFiles[0].contents);
  // as for the sources' stat alias (RACY_MS): a file written just now may be written again without
  // its stats changing, so no record is kept for it (the next start bundles again). "Now" is when
  // bundling started, not when it ended: the stats above are taken after esbuild read the files,
  // and one changed in between (a slow bundle on a loaded machine) would otherwise be recorded
  // with its new stats and its old bytes bundled.
  const newest = Math.max(...inputs.map(([, , mtime]) => mtime));
  if (started - newest >= RACY_MS) writeAtomic(metaPath, `${JSON.stringify({ inputs })}\n`);
  return out;
}

/** Code that finds files by its own location, which a bundle moves (in packages: our own code maps import.meta.url). */
const LOCATES_ITSELF = /\bimport\.meta\b|\b__dirname\b|\b__filename\b|\brequire\.resolve\b/;

/** True when file `f` (relative to `dir`) still has this size and mtime. */
function sameStat(dir, f, size, mtime) {
  try {
    const s = statSync(join(dir, f));
    return s.size === size && s.mtimeMs === mtime;
  } catch {
    return false;
  }
}

/** Marks a build as used now (prune keeps builds used within KEEP_USED_MS). */
function touch(dir) {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
    return true;
  } catch {
    return false; // gone (pruned), or pruning is only less precise
  }
}

/** Makes the compiled build at `dir` the one this process (and its worker threads) run. */
export function useBuild(dir) {
  globalThis[COMPILED_KEY] = { src: pathToFileURL(REPO).href, out: pathToFileURL(`${dir}${sep}`).href };
}

/** The compiled file of a source file of the checkout (absolute path), in build `dir`. */
export function compiledPath(dir, sourceFile) {
  return join(dir, relative(REPO, sourceFile).replace(/\.ts$/, '.js'));
}

/** True when the launcher should run the TypeScript through tsx instead (DISTILL_TSX=1). */
export function tsxRequested() {
  const v = process.env['DISTILL_TSX'];
  return v !== undefined && v !== '' && v !== '0';
}
