import { spawn } from 'node:child_process';
import type { TestFacts } from './gates.ts';

/** What a child command printed (stdout and stderr interleaved, the last `KEEP` characters) and how it ended. */
export interface CommandOutput {
  exitCode: number | null;
  output: string;
}

const KEEP = 1 << 20;

/** Runs `npm <args>` in the project root, capturing its output; never throws for a non-zero exit. */
export function runNpm(root: string, args: readonly string[]): Promise<CommandOutput> {
  return new Promise((resolve) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', [...args], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const add = (b: Buffer): void => {
      out += b.toString('utf8');
      if (out.length > 2 * KEEP) out = out.slice(-KEEP);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.on('error', (e) => resolve({ exitCode: null, output: `${out}\ncannot run npm: ${e.message}` }));
    child.on('close', (code) => resolve({ exitCode: code, output: out.slice(-KEEP) }));
  });
}

/** npm's own closing noise, which says nothing about the failure. */
const NPM_NOISE = /^npm (error|ERR!)\s*(A complete log of this run|$|\s+npm run$|To see a list of scripts)/;

/** The last informative lines of an output (blank lines and npm's log-file pointer dropped). */
export function tailLines(output: string, count = 10): string[] {
  return output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '' && !NPM_NOISE.test(l))
    .slice(-count);
}

/**
 * Pure core: the counts and failing test names of `npm test`'s output: the closing line of our
 * reporter (`tests: N passed, N failed, N skipped`, tasks/dev/test-reporter.mjs) and its
 * `failed tests:` list, or node:test's TAP summary (`# tests`, `# pass`, `# fail`, `# skipped`) and
 * `not ok` lines when a project runs the default reporter.
 */
export function parseTestOutput(exitCode: number | null, output: string): TestFacts {
  const num = (label: string): number | null => {
    const all = [...output.matchAll(new RegExp(`^# ${label} (\\d+)$`, 'gm'))];
    const last = all.at(-1);
    return last ? Number(last[1]) : null;
  };
  const plain = [...output.matchAll(/^tests: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)].at(-1);
  let counts: TestFacts['counts'] = null;
  if (plain) {
    const [pass, fail, skipped] = [Number(plain[1]), Number(plain[2]), Number(plain[3] ?? 0)];
    counts = { tests: pass + fail + skipped, pass, fail, skipped };
  } else {
    const tests = num('tests');
    const pass = num('pass');
    const fail = num('fail');
    if (tests !== null && pass !== null && fail !== null)
      counts = { tests, pass, fail, skipped: num('skipped') ?? 0 };
  }
  const listed = output.includes('\nfailed tests:\n')
    ? [...(output.split('\nfailed tests:\n').at(-1) as string).matchAll(/^ {2}✖ (.+)$/gm)].map(
        (m) => m[1] as string,
      )
    : [];
  const tap = [...output.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) =>
    (m[1] as string).replace(/\s+#.*$/, '').trim(),
  );
  return {
    skipped: false,
    exitCode,
    counts,
    failures: [...new Set([...listed, ...tap])],
    tail: tailLines(output),
  };
}
