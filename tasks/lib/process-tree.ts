import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * The processes above this one, for process control under wireit (docs/reliability.md, "Killing a
 * build stops every phase it started"). wireit starts every script in a process group of its own,
 * so a kill of the group of `npm run run-all` does not reach the phase that is running; the phase instead watches the
 * processes between it and the build's owner and stops when one of them is gone.
 *
 * Linux reads /proc; elsewhere `ps` is asked. Every function returns null when it cannot tell.
 */

/** A process: its pid and a token of its start time (so a reused pid is not taken for it). */
export interface ProcRef {
  pid: number;
  /** Start time as the OS gives it (/proc stat field 22, or `ps -o lstart`), or null. */
  start: string | null;
}

/** The fields of /proc/<pid>/stat after the command name (field 3 is the first). */
function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const hasProc = ((): boolean => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** `ps` for one pid, in one call: parent, start time (lstart: 5 words) and command. */
function ps(pid: number): { ppid: number; start: string; cmd: string[] } | null {
  try {
    const out = execFileSync('ps', ['-o', 'ppid=,lstart=,command=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const w = out.split(/\s+/);
    return w.length >= 7 ? { ppid: Number(w[0]), start: w.slice(1, 6).join(' '), cmd: w.slice(6) } : null;
  } catch {
    return null;
  }
}

/** The parent pid of `pid`, or null when the process is gone. */
export function parentOf(pid: number): number | null {
  if (hasProc) {
    const f = procStat(pid);
    return f ? Number(f[1]) : null;
  }
  return ps(pid)?.ppid ?? null;
}

/** A token of the start time of `pid`, or null when it is gone. */
export function startOf(pid: number): string | null {
  if (hasProc) return procStat(pid)?.[19] ?? null;
  return ps(pid)?.start ?? null;
}

/** The command line of `pid` (arguments), or null when it is gone. */
export function commandOf(pid: number): string[] | null {
  if (hasProc) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      // a process that set its title (npm: "npm run run-all") has it as one string
      return args.length === 1 ? (args[0] as string).split(/\s+/) : args;
    } catch {
      return null;
    }
  }
  return ps(pid)?.cmd ?? null;
}

/** True while the process `ref` names runs (same pid and, when known, same start time). */
export function alive(ref: ProcRef): boolean {
  try {
    process.kill(ref.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // the start time is compared where it is cheap (/proc); elsewhere a pid reused within one build is not guarded
  if (ref.start === null || !hasProc) return true;
  const now = startOf(ref.pid);
  return now === null || now === ref.start;
}

const isWireit = (cmd: readonly string[]): boolean =>
  cmd.slice(0, 2).some((a) => /^wireit(\.js)?$/.test(basename(a)) || /\/wireit\/bin\/wireit\.js$/.test(a));
const isNpm = (cmd: readonly string[]): boolean =>
  cmd.slice(0, 2).some((a) => /^(npm|npm-cli\.js|pnpm|pnpm\.cjs|yarn|yarn\.js)$/.test(basename(a)));
const isShell = (cmd: readonly string[]): boolean => /^(sh|bash|dash|zsh)$/.test(basename(cmd[0] ?? ''));

/** The build this process runs in, when it was started by wireit. */
export interface BuildOwner {
  /** The process that owns the build: the `npm run ...` that started wireit, else wireit itself. */
  owner: ProcRef;
  /** Its command line, for messages (e.g. "npm run run-all"). */
  command: string;
  /** Every process from this one's parent up to the owner: if any of them is gone, the build is. */
  chain: ProcRef[];
}

/**
 * The wireit build this process belongs to: the nearest wireit ancestor, and above it the first
 * npm (or pnpm, yarn) process, through at most one shell (`sh -c wireit`). Null when no wireit
 * process is above this one (a `distill` command typed by hand, a test), or the OS cannot tell.
 */
export function buildOwner(pid: number = process.pid): BuildOwner | null {
  const chain: ProcRef[] = [];
  let cur = parentOf(pid);
  for (let depth = 0; cur !== null && cur > 1 && depth < 12; depth++) {
    const cmd = commandOf(cur);
    if (!cmd) return null;
    chain.push({ pid: cur, start: startOf(cur) });
    if (isWireit(cmd)) {
      let owner = chain.at(-1) as ProcRef;
      let command = cmd;
      // up through `sh -c wireit` to the npm process that started it, if there is one
      const above: ProcRef[] = [];
      let up = parentOf(cur);
      for (let i = 0; i < 2 && up !== null && up > 1; i++) {
        const c = commandOf(up);
        if (!c) break;
        above.push({ pid: up, start: startOf(up) });
        if (isNpm(c)) {
          owner = above.at(-1) as ProcRef;
          command = c;
          chain.push(...above);
          break;
        }
        if (!isShell(c)) break;
        up = parentOf(up);
      }
      return { owner, command: describeCommand(command), chain };
    }
    cur = parentOf(cur);
  }
  return null;
}

/** "npm run run-all" from an npm command line (node /usr/lib/.../npm-cli.js run run-all). */
function describeCommand(cmd: readonly string[]): string {
  const i = cmd.findIndex((a) =>
    /^(npm|npm-cli\.js|pnpm|pnpm\.cjs|yarn|yarn\.js|wireit|wireit\.js)$/.test(basename(a)),
  );
  if (i < 0) return cmd.join(' ');
  const tool = basename(cmd[i] as string).replace(/(-cli)?\.(c?js)$/, '');
  return [tool, ...cmd.slice(i + 1)].join(' ');
}
