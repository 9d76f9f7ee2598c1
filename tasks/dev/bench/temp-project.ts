import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a bench project holds besides its generated corpus: the code and the wiring, copied. */
const COPIED = [
  'distill.config.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tasks',
  'schemas',
  'bin',
] as const;

/**
 * The preload every node process of a measured run gets (through NODE_OPTIONS): on exit, the main
 * thread appends its argv, wall time since process start and peak RSS (getrusage maxrss, which
 * includes every worker thread) to $DISTILL_BENCH_LOG. Plain JavaScript, so npm and wireit can load it too.
 */
const RSS_HOOK = `import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
const out = process.env.DISTILL_BENCH_LOG;
if (out && isMainThread) {
  process.on('exit', (code) => {
    const ru = process.resourceUsage();
    appendFileSync(out, JSON.stringify({ argv: process.argv.slice(1), pid: process.pid, start_ms: performance.timeOrigin, wall_ms: performance.now(), max_rss_kb: ru.maxRSS, cpu_us: ru.userCPUTime + ru.systemCPUTime, code }) + '\\n');
  });
}
`;

/** A throw-away project to measure in: the repo's code and config copied, node_modules linked. */
export interface BenchProject {
  root: string;
  /** Absolute path of the preload that records each process's peak RSS. */
  hook: string;
}

/** Creates a bench project under the OS temp folder from the code at `codeDir` (the repo, or an older checkout to compare). */
export function createBenchProject(codeDir: string, nodeModules: string, label: string): BenchProject {
  const root = mkdtempSync(join(tmpdir(), `distill-bench-${label}-`));
  for (const name of COPIED) cpSync(join(codeDir, name), join(root, name), { recursive: true });
  symlinkSync(nodeModules, join(root, 'node_modules'), 'dir');
  mkdirSync(join(root, 'data', '_kb'), { recursive: true });
  mkdirSync(join(root, '.bench'), { recursive: true });
  const hook = join(root, '.bench', 'rss-hook.mjs');
  writeFileSync(hook, RSS_HOOK);
  return { root, hook };
}
