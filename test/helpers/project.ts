import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** tsx's loader, resolved from the repo so children can run from any cwd. */
const TSX = import.meta.resolve('tsx');

/** A fresh temp project: the bundled config and source corpus copied in, nothing built. */
export function tempProject(prefix = 'distill-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(REPO, 'distill.config.json'), join(dir, 'distill.config.json'));
  cpSync(join(REPO, 'data', '_kb'), join(dir, 'data', '_kb'), { recursive: true });
  return dir;
}

/** Runs the distill CLI in a child process; resolves with exit code and output. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, join(REPO, 'tasks', 'cli', 'main.ts'), ...args],
      {
        cwd: opts.cwd ?? REPO,
        env: { ...process.env, DISTILL_QUIET: '1', ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** sha256 of every file under `dir` (relative POSIX path → hash), sorted. */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else
        out[relative(dir, p).split('\\').join('/')] = createHash('sha256')
          .update(readFileSync(p))
          .digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Runs the CLI in-process (`main` of tasks/cli/commands.ts), capturing stdout and stderr. */
export async function cliInProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../tasks/cli/commands.ts');
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}
