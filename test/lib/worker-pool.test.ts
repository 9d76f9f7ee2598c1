import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapInOrder, WorkerPool } from '../../tasks/lib/worker-pool.ts';

const ECHO = new URL('../fixtures/workers/echo-worker.ts', import.meta.url);
type Req = { n: number; delayMs: number };

test('a worker holds two requests at once and answers them in the order sent, even when the first is the slower', async () => {
  const pool = new WorkerPool<Req, number>(ECHO, 1, null);
  try {
    assert.equal(pool.hasIdle, true);
    const first = pool.run({ n: 1, delayMs: 300 });
    assert.equal(pool.hasIdle, true, 'room for a second request behind the first');
    const second = pool.run({ n: 2, delayMs: 0 });
    assert.equal(pool.hasIdle, false, 'two requests: full');
    const order: number[] = [];
    await Promise.all([first.then((r) => order.push(r)), second.then((r) => order.push(r))]);
    assert.deepEqual(order, [2, 4]);
    assert.equal(pool.hasIdle, true);
  } finally {
    await pool.close();
  }
});

test("a third request waits for room; a failure is the caller's error and the worker goes on", async () => {
  const pool = new WorkerPool<Req, number>(ECHO, 1, null);
  try {
    const a = pool.run({ n: 1, delayMs: 100 });
    const b = pool.run({ n: -5, delayMs: 0 });
    const c = pool.run({ n: 3, delayMs: 0 }); // waits until `a` is answered
    assert.equal(await a, 2);
    await assert.rejects(b, /negative: -5/);
    assert.equal(await c, 6);
  } finally {
    await pool.close();
  }
});

test('mapInOrder over a pool and this thread gives every result in request order; this thread takes requests when the worker is full', async () => {
  async function* requests(): AsyncGenerator<Req> {
    for (let n = 0; n < 40; n++) yield { n, delayMs: 5 + ((n * 7) % 5) };
  }
  for (const window of [1, 4]) {
    let localCalls = 0;
    const local = (r: Req): number => {
      localCalls++;
      return r.n * 2;
    };
    const got: number[] = [];
    for await (const r of mapInOrder(requests(), local, () => new WorkerPool<Req, number>(ECHO, 1, null), {
      after: 2,
      window,
    }))
      got.push(r);
    assert.deepEqual(
      got,
      Array.from({ length: 40 }, (_, n) => n * 2),
    );
    // the first two here, then one whenever the worker holds two: a window smaller than the workers hold still leaves this thread a share
    assert.ok(
      localCalls > 2 && localCalls < 40,
      `window ${window}: ${localCalls} of 40 requests ran in this thread`,
    );
  }
});
