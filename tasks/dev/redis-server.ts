import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A real redis-server for the job-queue tests and the queue bench: on a free loopback port, no persistence, a
 * temporary folder. When it cannot start, `startRedis` throws with what to install: the suite
 * fails rather than skipping (the Debian package redis-server; `.ci/run` installs it when missing).
 */
export interface TestRedis {
  port: number;
  /** redis://127.0.0.1:<port>/<db> */
  url(db: number): string;
  /** Stops it (SIGKILL: an outage, not a shutdown) and waits until the port is closed. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.write('PING\r\n');
    });
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.once('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error || which.status !== 0)
    throw new Error(
      'the job-queue tests need redis-server (Debian package redis-server: `apt-get install redis-server`; .ci/run installs it when missing), and it cannot be run here: ' +
        String(which.error?.message ?? which.stderr),
    );
  const dir = mkdtempSync(join(tmpdir(), 'distill-redis-'));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  let log = '';
  const start = async (): Promise<void> => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (await answers(port)) return;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${log.slice(-2000)}`);
  };
  const kill = async (): Promise<void> => {
    const p = proc as ChildProcess | null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    proc = null;
  };
  await start();
  return {
    port,
    url: (db) => `redis://127.0.0.1:${port}/${db}`,
    kill,
    restart: start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
