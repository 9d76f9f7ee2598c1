import { ReplayConfig } from '../../schemas/replay-config.ts';
import { UserError } from '../lib/result.ts';

/** Resolved replay settings: the config's `replay` section with environment overrides applied. */
export type ReplaySettings = ReplayConfig;

type Kind = 'string' | 'int' | 'number' | 'seed';

/** Environment variable → the `replay` config field it overrides. An empty value counts as unset. */
export const REPLAY_ENV: readonly {
  env: string;
  path: readonly [string] | readonly [string, string];
  kind: Kind;
}[] = [
  { env: 'DISTILL_LOCAL_BASE_URL', path: ['local', 'base_url'], kind: 'string' },
  { env: 'DISTILL_LOCAL_MODEL', path: ['local', 'model'], kind: 'string' },
  { env: 'DISTILL_LOCAL_API_KEY_ENV', path: ['local', 'api_key_env'], kind: 'string' },
  { env: 'DISTILL_LOCAL_TIMEOUT_MS', path: ['local', 'timeout_ms'], kind: 'int' },
  { env: 'DISTILL_ESCALATION_BASE_URL', path: ['escalation', 'base_url'], kind: 'string' },
  { env: 'DISTILL_ESCALATION_MODEL', path: ['escalation', 'model'], kind: 'string' },
  { env: 'DISTILL_ESCALATION_API_KEY_ENV', path: ['escalation', 'api_key_env'], kind: 'string' },
  { env: 'DISTILL_ESCALATION_TIMEOUT_MS', path: ['escalation', 'timeout_ms'], kind: 'int' },
  { env: 'DISTILL_REPLAY_K', path: ['k'], kind: 'int' },
  { env: 'DISTILL_REPLAY_MAX_CONTEXT_CHARS', path: ['max_context_chars'], kind: 'int' },
  { env: 'DISTILL_REPLAY_TEMPERATURE', path: ['temperature'], kind: 'number' },
  { env: 'DISTILL_REPLAY_SEED', path: ['seed'], kind: 'seed' },
  { env: 'DISTILL_REPLAY_MAX_TOKENS', path: ['max_tokens'], kind: 'int' },
  { env: 'DISTILL_REPLAY_AGREEMENT_THRESHOLD', path: ['agreement_threshold'], kind: 'number' },
  { env: 'DISTILL_REPLAY_LOG_MAX_BYTES', path: ['log', 'max_bytes'], kind: 'int' },
  { env: 'DISTILL_REPLAY_LOG_KEEP', path: ['log', 'keep'], kind: 'int' },
];

function parseEnvValue(name: string, raw: string, kind: Kind): string | number | null {
  if (kind === 'string') return raw;
  if (kind === 'seed' && raw.trim().toLowerCase() === 'none') return null;
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || (kind !== 'number' && !Number.isInteger(v))) {
    const want = kind === 'number' ? 'a number' : kind === 'seed' ? 'an integer or "none"' : 'an integer';
    throw new UserError(
      'CONFIG_INVALID',
      `environment variable ${name} must be ${want}, got ${JSON.stringify(raw)}; fix or unset it`,
    );
  }
  return v;
}

/**
 * Pure: the replay settings from the config section and an environment. Each override is checked
 * by the same schema as the config file, and an error names the variable it came from.
 */
export function resolveReplaySettings(
  section: ReplayConfig,
  env: Readonly<Record<string, string | undefined>>,
): { settings: ReplaySettings; overridden: string[] } {
  const merged = structuredClone(section) as unknown as Record<string, Record<string, unknown> | unknown>;
  const overridden: string[] = [];
  const source = new Map<string, string>();
  for (const o of REPLAY_ENV) {
    const raw = env[o.env];
    if (raw === undefined || raw === '') continue;
    const value = parseEnvValue(o.env, raw, o.kind);
    if (o.path.length === 1) merged[o.path[0]] = value;
    else (merged[o.path[0]] as Record<string, unknown>)[o.path[1]] = value;
    overridden.push(o.env);
    source.set(o.path.join('.'), o.env);
  }
  const res = ReplayConfig.safeParse(merged);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const at = i.path.join('.');
      const from = source.get(at);
      return from ? `  ${from} (replay.${at}): ${i.message}` : `  replay.${at}: ${i.message}`;
    });
    throw new UserError('CONFIG_INVALID', `invalid replay settings:\n${lines.join('\n')}`);
  }
  return { settings: res.data, overridden };
}
