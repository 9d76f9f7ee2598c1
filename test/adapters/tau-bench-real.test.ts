import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { tauBench } from '../../tasks/adapters/tau-bench.ts';
import { RunBody, SignalBody } from '../../schemas/evidence-record.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const file = resolve(repoRoot, '../shared/real-traces', 'tau-bench/gpt-4o-airline.json');
const skip = existsSync(file)
  ? false
  : `real traces not found at ${file} (optional; they are not part of the repository)`;

test(
  'tau-bench (real file): all 200 gpt-4o airline elements convert: 200 runs, 84 reward-1 and 116 reward-0 signals',
  { skip },
  () => {
    // 200 elements, about 3 MB: small enough to parse whole in a test.
    const elements = JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
    assert.equal(elements.length, 200);
    const drops: string[] = [];
    let runs = 0;
    const rewards = { one: 0, zero: 0 };
    const traceIds = new Set<string>();
    elements.forEach((el, index) => {
      const out = tauBench.toEvidence(el, {
        stream: 'tau_bench',
        sourceFile: '../shared/real-traces/tau-bench/gpt-4o-airline.json',
        index,
      });
      if (out.type === 'drop') {
        drops.push(`$[${index}] ${out.reason}: ${out.detail}`);
        return;
      }
      for (const d of out.records) {
        assert.deepEqual(d.flags, []);
        if (d.kind === 'run') {
          runs++;
          RunBody.parse(d.run);
          traceIds.add(d.trace_id ?? '');
          assert.equal(d.run.messages[0]?.role, 'system');
        } else if (d.kind === 'signal' && d.signal.type === 'reward') {
          SignalBody.parse(d.signal);
          if (d.signal.value === 1) rewards.one++;
          else if (d.signal.value === 0) rewards.zero++;
        }
      }
    });
    assert.deepEqual(drops, []);
    assert.equal(runs, 200);
    assert.equal(traceIds.size, 200);
    assert.deepEqual(rewards, { one: 84, zero: 116 });
  },
);
