import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DistillConfig } from '../../schemas/config.ts';
import { ReplayConfig } from '../../schemas/replay-config.ts';
import { resolveReplaySettings } from '../../tasks/replay/settings.ts';

const defaults = ReplayConfig.parse({});

test('replay config defaults: Ollama on 127.0.0.1:11434, no escalation, k 5, temperature 0, seed 0, rotation 5 MiB × 5', () => {
  assert.deepEqual(defaults, {
    k: 5,
    max_context_chars: 12000,
    local: {
      base_url: 'http://127.0.0.1:11434/v1',
      model: 'qwen2.5:7b-instruct',
      api_key_env: '',
      timeout_ms: 120000,
    },
    escalation: { base_url: '', model: '', api_key_env: '', timeout_ms: 60000 },
    temperature: 0,
    seed: 0,
    max_tokens: 1024,
    agreement_threshold: 0.5,
    log: { max_bytes: 5242880, keep: 5 },
  });
});

test('distill.config.json stays valid, and a config without a replay section gets the defaults', () => {
  const raw = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../distill.config.json'), 'utf8'));
  const cfg = DistillConfig.parse(raw);
  assert.deepEqual(cfg.replay, raw.replay === undefined ? defaults : ReplayConfig.parse(raw.replay));
  const { replay: _r, ...without } = raw;
  assert.deepEqual(DistillConfig.parse(without).replay, defaults);
});

test('a partial replay section keeps the other defaults; unknown keys are errors', () => {
  const cfg = ReplayConfig.parse({
    k: 3,
    escalation: {
      base_url: 'https://api.deepseek.com/v1',
      model: 'deepseek-chat',
      api_key_env: 'DEEPSEEK_API_KEY',
    },
  });
  assert.equal(cfg.k, 3);
  assert.deepEqual(cfg.escalation, {
    base_url: 'https://api.deepseek.com/v1',
    model: 'deepseek-chat',
    api_key_env: 'DEEPSEEK_API_KEY',
    timeout_ms: 60000,
  });
  assert.equal(cfg.local.model, 'qwen2.5:7b-instruct');
  assert.equal(ReplayConfig.safeParse({ local: { url: 'x' } }).success, false);
  assert.equal(ReplayConfig.safeParse({ escalation: { api_key_env: 'not a name' } }).success, false);
});

test('environment variables override the config; empty values count as unset', () => {
  const { settings, overridden } = resolveReplaySettings(defaults, {
    DISTILL_LOCAL_BASE_URL: 'http://127.0.0.1:8080/v1',
    DISTILL_LOCAL_MODEL: 'llama3.1:8b',
    DISTILL_ESCALATION_BASE_URL: 'https://api.openai.com/v1',
    DISTILL_ESCALATION_MODEL: 'gpt-4o-mini',
    DISTILL_ESCALATION_API_KEY_ENV: 'OPENAI_API_KEY',
    DISTILL_REPLAY_K: '8',
    DISTILL_REPLAY_TEMPERATURE: '0.2',
    DISTILL_REPLAY_SEED: 'none',
    DISTILL_REPLAY_LOG_KEEP: '2',
    DISTILL_LOCAL_TIMEOUT_MS: '',
  });
  assert.deepEqual(overridden, [
    'DISTILL_LOCAL_BASE_URL',
    'DISTILL_LOCAL_MODEL',
    'DISTILL_ESCALATION_BASE_URL',
    'DISTILL_ESCALATION_MODEL',
    'DISTILL_ESCALATION_API_KEY_ENV',
    'DISTILL_REPLAY_K',
    'DISTILL_REPLAY_TEMPERATURE',
    'DISTILL_REPLAY_SEED',
    'DISTILL_REPLAY_LOG_KEEP',
  ]);
  assert.deepEqual(settings.local, {
    base_url: 'http://127.0.0.1:8080/v1',
    model: 'llama3.1:8b',
    api_key_env: '',
    timeout_ms: 120000,
  });
  assert.deepEqual(settings.escalation, {
    base_url: 'https://api.openai.com/v1',
    model: 'gpt-4o-mini',
    api_key_env: 'OPENAI_API_KEY',
    timeout_ms: 60000,
  });
  assert.deepEqual([settings.k, settings.temperature, settings.seed, settings.log.keep], [8, 0.2, null, 2]);
  assert.deepEqual(defaults.local.base_url, 'http://127.0.0.1:11434/v1', 'the config value is not mutated');
});

test('a bad environment value is an error naming the variable', () => {
  assert.throws(() => resolveReplaySettings(defaults, { DISTILL_REPLAY_K: 'five' }), {
    message: 'environment variable DISTILL_REPLAY_K must be an integer, got "five"; fix or unset it',
  });
  assert.throws(() => resolveReplaySettings(defaults, { DISTILL_REPLAY_SEED: '1.5' }), {
    message:
      'environment variable DISTILL_REPLAY_SEED must be an integer or "none", got "1.5"; fix or unset it',
  });
  assert.throws(() => resolveReplaySettings(defaults, { DISTILL_REPLAY_K: '0' }), {
    message: 'invalid replay settings:\n  DISTILL_REPLAY_K (replay.k): Too small: expected number to be >0',
  });
  assert.throws(() => resolveReplaySettings(defaults, { DISTILL_ESCALATION_API_KEY_ENV: 'my key' }), {
    message:
      'invalid replay settings:\n  DISTILL_ESCALATION_API_KEY_ENV (replay.escalation.api_key_env): expected an environment variable name, or "" for none',
  });
});
