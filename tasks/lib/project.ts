import { execFileSync } from 'node:child_process';
import { mayBeInGitRepo } from './git-repo.ts';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DistillConfig } from '../../schemas/config.ts';
import { jsonSyntaxError, locate, schemaIssueLines } from './config-errors.ts';
import { UserError } from './result.ts';
import { setConfiguredQueue } from './queue/settings.ts';

export const CONFIG_FILE = 'distill.config.json';

/** The project root: `--root`, $DISTILL_ROOT, or the nearest folder upward holding distill.config.json. */
export function findRoot(explicit?: string): string {
  const given = explicit ?? process.env['DISTILL_ROOT'];
  if (given) return resolve(given);
  let dir = process.cwd();
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new UserError(
        'NO_PROJECT',
        `no ${CONFIG_FILE} found in ${process.cwd()} or above; run inside a distill project or pass --root DIR`,
      );
    dir = up;
  }
}

/** Loads and validates distill.config.json; errors say `distill.config.json:line:column` and what is wrong. */
export function loadConfig(root: string): DistillConfig {
  const path = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      'CONFIG_INVALID',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const where = jsonSyntaxError(path, text) ?? `${path}: ${(e as Error).message}`;
    throw new UserError('CONFIG_INVALID', `${where}\n${CONFIG_FILE} is not valid JSON`);
  }
  const res = DistillConfig.safeParse(raw);
  if (!res.success) {
    const lines = schemaIssueLines(path, text, DistillConfig, res.error.issues, raw).map((l) => `  ${l}`);
    throw new UserError('CONFIG_INVALID', `${CONFIG_FILE} is invalid:\n${lines.join('\n')}`);
  }
  const streams = res.data.sources.map((s) => s.stream);
  const twice = streams.find((s, i) => streams.indexOf(s) !== i);
  if (twice !== undefined)
    throw new UserError(
      'CONFIG_INVALID',
      `${locate(path, text, ['sources', streams.lastIndexOf(twice), 'stream'])}: stream "${twice}" is named by two sources; give each source its own stream name`,
    );
  // the executor of the pooled phases (tasks/lib/queue/settings.ts; $DISTILL_QUEUE overrides it)
  setConfiguredQueue(res.data.queue);
  return res.data;
}

/** `distill.config.json:line:column` of a value in the config (for errors found after loading it). */
export function configLocation(root: string, path: readonly (string | number)[]): string {
  const file = join(root, CONFIG_FILE);
  try {
    return locate(file, readFileSync(file, 'utf8'), path);
  } catch {
    return file;
  }
}

/** `distill.config.json:line:column` of a field of the source that names `stream`. */
export function sourceLocation(root: string, stream: string, key: string): string {
  const file = join(root, CONFIG_FILE);
  try {
    const text = readFileSync(file, 'utf8');
    const sources = (JSON.parse(text) as { sources?: { stream?: unknown }[] }).sources ?? [];
    const i = sources.findIndex((x) => x?.stream === stream);
    return locate(file, text, i < 0 ? ['sources'] : ['sources', i, key]);
  } catch {
    return file;
  }
}

let codeVersionCache: string | undefined;

/** The git commit of the code (for receipts only, never datasets); "unknown" outside a checkout. */
export function codeVersion(root: string): string {
  if (codeVersionCache) return codeVersionCache;
  if (!mayBeInGitRepo(root)) return 'unknown'; // no git process: not cached, a repository may appear
  try {
    codeVersionCache = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    codeVersionCache = 'unknown';
  }
  return codeVersionCache;
}
