#!/usr/bin/env node
// The `distill` launcher (package bin, and what every wireit command runs): runs the precompiled
// JavaScript of tasks/ and schemas/ (bin/precompile.js: compiled first when missing or stale, so
// an edited .ts file takes effect on the next command), with no TypeScript loader in the process.
// DISTILL_TSX=1 runs the TypeScript through tsx instead, as `node --import tsx tasks/cli/main.ts`.
import { pathToFileURL } from 'node:url';
import { compiledPath, ensureBuild, REPO, tsxRequested, useBuild } from './precompile.js';

const MAIN = `${REPO}tasks/cli/main.ts`;

if (tsxRequested()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(MAIN).href);
} else {
  let dir;
  try {
    dir = await ensureBuild();
  } catch (e) {
    process.stderr.write(`distill: could not compile tasks/ and schemas/: ${e?.stack ?? e}\n`);
    process.stderr.write('(DISTILL_TSX=1 runs the TypeScript through tsx instead)\n');
    process.exit(70);
  }
  useBuild(dir);
  try {
    await import(pathToFileURL(compiledPath(dir, MAIN)).href);
  } catch (e) {
    // a module the CLI imports at start-up does not compile: the compiler's messages, not a stack
    if (!e?.distillCompileError) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(70);
  }
}
