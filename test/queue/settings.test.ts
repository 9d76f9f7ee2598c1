import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfig } from '../../tasks/lib/project.ts';
import { queueUrl, redactedUrl } from '../../tasks/lib/queue/settings.ts';
import { RECENT_DAYS } from '../helpers/built.ts';
import { CLI, inProcess, keepLastDays, tempProject } from '../helpers/project.ts';

// The executor setting (docs/scale-out.md, "Executor choice"): local by default; DISTILL_QUEUE or
// the config's "queue" choose the job queue; DISTILL_QUEUE overrides the config, `local` forces local.

function withEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env['DISTILL_QUEUE'];
  if (value === undefined) delete process.env['DISTILL_QUEUE'];
  else process.env['DISTILL_QUEUE'] = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['DISTILL_QUEUE'];
    else process.env['DISTILL_QUEUE'] = saved;
  }
}

test('executor setting: local by default, the config\'s "queue", DISTILL_QUEUE over it, DISTILL_QUEUE=local forces local', () => {
  const root = tempProject('distill-queue-settings-');
  loadConfig(root);
  assert.equal(withEnv(undefined, queueUrl), null);
  assert.equal(withEnv('redis://10.0.0.5:6379/2', queueUrl), 'redis://10.0.0.5:6379/2');
  const path = join(root, 'distill.config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...config, queue: 'redis://queue-host:6379/0' }));
  loadConfig(root);
  assert.equal(withEnv(undefined, queueUrl), 'redis://queue-host:6379/0');
  assert.equal(withEnv('redis://other:6380/1', queueUrl), 'redis://other:6380/1');
  assert.equal(withEnv('local', queueUrl), null);
  // back to a config without it
  writeFileSync(path, JSON.stringify(config));
  loadConfig(root);
  assert.equal(withEnv(undefined, queueUrl), null);
});

test('a "queue" that is not a Redis URL is a config error with its place in the file', async () => {
  const root = tempProject('distill-queue-settings-');
  const path = join(root, 'distill.config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...config, queue: 'http://queue-host:6379' }, null, 2));
  const r = await inProcess(['build-evidence', '--root', root]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /distill\.config\.json:\d+:\d+.*queue.*Redis URL.*\[CONFIG_INVALID\]/s);
});

test('messages never print the Redis password', () => {
  for (const url of [
    'redis://:s3cret@host:6379/0',
    'redis://user:s3cret@host:6379/0',
    'rediss://s3cret@host/1',
  ]) {
    const shown = redactedUrl(url);
    assert.ok(!shown.includes('s3cret'), shown);
    assert.match(shown, /@host(:6379\/0|\/1)$/);
  }
  assert.equal(redactedUrl('redis://user:s3cret@host:6379/0'), 'redis://user:***@host:6379/0');
  assert.equal(redactedUrl('redis://host:6379/0'), 'redis://host:6379/0');
});

test('without a queue setting a build loads neither BullMQ nor ioredis (no Redis needed), and `worker --help` neither', async () => {
  const root = tempProject('distill-queue-settings-');
  keepLastDays(root, RECENT_DAYS); // what is recorded is the modules a build loads, not the corpus
  const recorder = fileURLToPath(new URL('../fixtures/module-log/register.mjs', import.meta.url));
  for (const [i, argv] of [['build-evidence'], ['worker', '--help'], ['queue', '--help']].entries()) {
    const log = join(root, `modules-${i}.log`);
    const r = spawnSync(process.execPath, ['--import', recorder, CLI, ...argv, '--root', root], {
      env: { ...process.env, DISTILL_QUIET: '1', DISTILL_QUEUE: '', DISTILL_MODULE_LOG: log },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const loaded = readFileSync(log, 'utf8').split('\n');
    assert.ok(
      loaded.some((u) => u.includes('/tasks/cli/')),
      'the recorder saw the CLI',
    );
    assert.deepEqual(
      loaded.filter((u) => /node_modules\/(bullmq|ioredis)\//.test(u)),
      [],
      argv.join(' '),
    );
  }
});
