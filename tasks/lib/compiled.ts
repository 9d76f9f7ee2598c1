/**
 * Where this process's code runs from. The `distill` launcher (bin/distill.js) runs the JavaScript
 * that bin/precompile.js compiled from tasks/ and schemas/ into node_modules/.cache/distill/<key>/,
 * and says so through a global before the CLI loads; tests, the dev scripts and DISTILL_TSX=1 run
 * the TypeScript through tsx and leave it unset. `import.meta.url` means the .ts source file in
 * both cases (the compiler replaces it), so only code that starts code (a worker thread's entry)
 * needs to know: it maps the source module to its compiled file here.
 */

import { readFileSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The launcher's record: the checkout's and the build's folder URLs (both ending in '/'). */
export interface CompiledBuild {
  src: string;
  out: string;
}

const KEY = Symbol.for('distill.compiled');
/** How often a running process marks its build as in use (bin/precompile.js keeps builds used within an hour). */
const KEEP_ALIVE_MS = 10 * 60 * 1000;

/** The compiled build this process runs, or null when it runs the TypeScript through tsx. */
export function compiledBuild(): CompiledBuild | null {
  const b = (globalThis as Record<symbol, unknown>)[KEY] as CompiledBuild | undefined;
  return b && typeof b.src === 'string' && typeof b.out === 'string' ? b : null;
}

/**
 * The module to load for a source module (`new URL('./worker.ts', import.meta.url)`): its compiled
 * .js when this process runs compiled code, else the .ts itself (tsx loads it).
 */
export function runnableModule(source: URL): URL {
  const b = compiledBuild();
  if (!b || !source.href.startsWith(b.src) || !source.href.endsWith('.ts')) return source;
  return new URL(`${b.out}${source.href.slice(b.src.length, -'.ts'.length)}.js`);
}

/**
 * Code for a worker thread (eval) that runs `source` the way this process runs its code: the
 * compiled module with the same record set (so its own workers map too), or through tsx, registered
 * in the thread by this bootstrap (a loader given with --import does not reach worker threads).
 */
export function workerBootstrap(source: URL): string {
  const b = compiledBuild();
  const fail = `.catch((e) => { console.error(e); process.exit(70); });`;
  if (b)
    return `globalThis[Symbol.for('distill.compiled')] = ${JSON.stringify(b)}; import(${JSON.stringify(runnableModule(source).href)})${fail}`;
  // resolved only here: compiled code never needs tsx
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(source.href)}); })${fail}`;
}

/**
 * The code fingerprint of the sources this process's build was compiled from (bin/precompile.js
 * writes it beside the compiled files, from the bytes it compiled), or null under tsx or when the
 * build has none. The sources on disk may have been edited since the build was chosen: this names
 * the code that runs.
 */
export function compiledFingerprint(): string | null {
  const b = compiledBuild();
  if (!b) return null;
  try {
    const fp = readFileSync(fileURLToPath(new URL('code-fingerprint', b.out)), 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(fp) ? fp : null;
  } catch {
    return null;
  }
}

/**
 * Marks this process's build as in use every few minutes, so the pruning of a later compile never
 * removes the files of a process that may still import from them (a `distill worker` loads a
 * phase's worker module at its first job, hours after it started). No-op under tsx.
 */
export function keepBuildAlive(): void {
  const b = compiledBuild();
  if (!b) return;
  const dir = fileURLToPath(b.out);
  setInterval(() => {
    const now = new Date();
    try {
      utimesSync(dir, now, now);
    } catch {
      // pruning only becomes less careful
    }
  }, KEEP_ALIVE_MS).unref();
}
