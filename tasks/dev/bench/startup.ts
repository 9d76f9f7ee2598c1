import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * CLI start-up (issue #22: `npx distill --help` and every command start in ≤ 0.5 s on an idle
 * machine). A command "starts" when it has parsed its arguments and could begin its work; the
 * figure that isolates that from the work is `distill <command> --help`, which goes through the
 * same entry, loader and argument handling and prints the command's usage. Each is run `runs`
 * times in a project folder and the median wall time is kept (the machine is shared: the median
 * drops the outliers). `npx distill --help` is measured too; npx's own start (resolving the local
 * bin, ~0.4 s of npm) is reported beside it as `npx_overhead_seconds` (`npx --no-install -c true`).
 */
export interface StartupFigure {
  /** Median seconds of `node bin/distill.js --help`. */
  help_seconds: number;
  /** Median seconds of `node bin/distill.js <command> --help`, per command. */
  commands: Record<string, number>;
  /** Median seconds of `npx distill --help`, and of npx alone. */
  npx_help_seconds: number;
  npx_overhead_seconds: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

function timed(cmd: string, args: string[], cwd: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0)
      throw new Error(`bench: \`${cmd} ${args.join(' ')}\` exited ${r.status}: ${r.stderr}`);
    times.push(s);
  }
  return Number(median(times).toFixed(3));
}

/** Measures start-up of the CLI of `code` (a checkout with node_modules), run in `cwd`. */
export async function measureStartup(code: string, cwd: string, runs = 5): Promise<StartupFigure> {
  const bin = join(code, 'bin', 'distill.js');
  const { COMMANDS } = await import(join(code, 'tasks', 'cli', 'commands.ts'));
  const commands: Record<string, number> = {};
  // not measured: the first start after a change of the code compiles it (bin/precompile.js)
  timed(process.execPath, [bin, '--help'], cwd, 1);
  for (const name of Object.keys(COMMANDS as Record<string, unknown>))
    commands[name] = timed(process.execPath, [bin, name, '--help'], cwd, runs);
  return {
    help_seconds: timed(process.execPath, [bin, '--help'], cwd, runs),
    commands,
    npx_help_seconds: timed('npx', ['--no-install', 'distill', '--help'], code, runs),
    npx_overhead_seconds: timed('npx', ['--no-install', '-c', 'true'], code, runs),
  };
}
