import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DistillConfig } from '../../schemas/config.ts';
import { UserError } from './result.ts';

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

/** Loads and validates distill.config.json; errors name the field and the file. */
export function loadConfig(root: string): DistillConfig {
  const path = join(root, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError('CONFIG_INVALID', `cannot read ${path}: ${(e as Error).message}`);
  }
  const res = DistillConfig.safeParse(raw);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UserError('CONFIG_INVALID', `${path} is invalid:\n${lines.join('\n')}`);
  }
  return res.data;
}

let codeVersionCache: string | undefined;

/** The git commit of the code (for receipts only, never datasets); "unknown" outside a checkout. */
export function codeVersion(root: string): string {
  if (codeVersionCache) return codeVersionCache;
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
