#!/usr/bin/env node
// The `distill` launcher (package bin, and what every wireit command runs): runs the precompiled
// JavaScript of tasks/ and schemas/ (bin/precompile.js: compiled first when missing or stale, so
// an edited .ts file takes effect on the next command), with no TypeScript loader in the process.
// `run-all --begin` / `--collect` run from a bundle of the same build (ensureBundle). DISTILL_TSX=1
// runs the TypeScript through tsx instead, as `node --import tsx tasks/cli/main.ts`.
import { pathToFileURL } from 'node:url';
import {
  bundleFor,
  compiledPath,
  ensureBuild,
  ensureBundle,
  REPO,
  tsxRequested,
  useBuild,
} from './precompile.js';

const MAIN = `${REPO}tasks/cli/main.ts`;

/** The build to run, or null to run through tsx. */
async function build() {
  if (tsxRequested()) return null;
  try {
    return await ensureBuild();
  } catch (e) {
    // node_modules/.cache not writable (a read-only install): run the TypeScript through tsx, as before
    if (['EACCES', 'EPERM', 'EROFS'].includes(e?.code)) {
      process.stderr.write(`distill: cannot write the compiled code (${e.message}); running through tsx\n`);
      return null;
    }
    process.stderr.write(`distill: could not compile tasks/ and schemas/: ${e?.stack ?? e}\n`);
    process.stderr.write('(DISTILL_TSX=1 runs the TypeScript through tsx instead)\n');
    process.exit(70);
  }
}

/**
 * The bundle of the build to run instead of its per-file modules (run-all's bookkeeping steps,
 * bin/precompile.js ensureBundle), or null.
 */
async function bundle(dir) {
  const name = bundleFor(process.argv.slice(2));
  if (name === null) return null;
  try {
    return await ensureBundle(dir, name);
  } catch (e) {
    // not writable (a read-only install), or esbuild failed: the per-file build runs the same code
    if (!['EACCES', 'EPERM', 'EROFS'].includes(e?.code))
      process.stderr.write(
        `distill: could not bundle ${name} (${e?.message ?? e}); running the per-file build\n`,
      );
    return null;
  }
}

const dir = await build();
if (dir === null) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(MAIN).href);
} else {
  useBuild(dir);
  try {
    await import(pathToFileURL((await bundle(dir)) ?? compiledPath(dir, MAIN)).href);
  } catch (e) {
    // a module the CLI imports at start-up does not compile: the compiler's messages, not a stack
    if (!e?.distillCompileError) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(70);
  }
}
