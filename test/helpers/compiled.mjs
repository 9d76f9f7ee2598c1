// `node --import ./test/helpers/compiled.mjs --test …` (npm test, through test/helpers/run-tests.mjs):
// the tests run the TypeScript of tasks/, schemas/ and test/ as the JavaScript bin/precompile.js
// compiles from it (the launcher's compiler: one .js per .ts in node_modules/.cache/distill/<key>/,
// compiled again when a source changes), not through tsx, whose start-up and per-import hooks cost
// every test process 0.2-1 s of CPU (docs/ci.md). Worker threads the code starts run the same build
// (tasks/lib/compiled.ts). Stack traces name the compiled files; NODE_OPTIONS=--enable-source-maps
// maps them to the .ts lines. DISTILL_TSX=1 runs the tests through tsx instead.
//
// A process whose entry is a compiled test file (run-tests.mjs gives node --test the build's
// .js files) needs no module hooks: the compiled imports name compiled files, and this only
// records the build for the code that starts worker threads. Any other entry (a .ts test file given
// by hand, a child process started with this process's execArgv) gets hooks that load each .ts of
// the checkout as its compiled .js (compiled-hooks.mjs); the hooks cost each process a loader
// thread and a round trip to it per import (~0.3-1 s of CPU per test file, docs/ci.md).
import { realpathSync } from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ensureBuild, REPO, tsxRequested } from '../../bin/precompile.js';

if (tsxRequested()) {
  const tsx = await import('tsx/esm/api');
  tsx.register();
} else {
  // the real path: modules resolved from a compiled file get it, so each module has one URL
  const dir = realpathSync(await ensureBuild({ dirs: ['tasks', 'schemas', 'test'] }));
  const src = pathToFileURL(REPO).href;
  const out = pathToFileURL(`${dir}/`).href;
  globalThis[Symbol.for('distill.compiled')] = { src, out };
  let entry = '';
  try {
    entry = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : '';
  } catch {
    // not a file (node -e, the test runner itself)
  }
  if (!(entry.startsWith(out) && entry.endsWith('.js')))
    register('./compiled-hooks.mjs', import.meta.url, { data: { src, out } });
}
