import { setFlagsFromString } from 'node:v8';
import { keepBuildAlive } from '../lib/compiled.ts';
import { isHelpRequest, main } from './commands.ts';

// The `distill` entry point: run by the launcher bin/distill.js (precompiled, or through tsx with
// DISTILL_TSX=1), or as `node --import tsx tasks/cli/main.ts`. Logic lives in commands.ts.

// Memory: the phases stream, so their live heap is small, but V8 grows the heap in large steps
// when allocation is fast and leaves the slack in the resident set (score reached 645 MB of RSS on
// the 1M-row corpus, screen 624 MB). Growing the heap by 10 % at a time keeps the resident set
// near the live data (score 425 MB, screen 337 MB, build-evidence 351 MB) for ~5-10 % more CPU;
// unlike --max-old-space-size it is no ceiling, so a phase that needs more still gets it. V8
// flags are per process, so worker threads follow. DISTILL_HEAP_GROWING_PERCENT=0 keeps V8's default.
const growing = process.env['DISTILL_HEAP_GROWING_PERCENT'];
const percent = growing !== undefined && /^[0-9]+$/.test(growing) ? Number(growing) : 10;
if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);

const argv = process.argv.slice(2);
// SIGINT / SIGTERM / SIGHUP: remove staging, scratch and own locks, publish nothing, exit 130.
// Help writes nothing to stop, so it starts without them (start-up time, docs/performance.md);
// `distill worker` handles its own signals (finish the running jobs, then stop).
if (!isHelpRequest(argv) && argv[0] !== 'worker') (await import('./phase-kit.ts')).installStopHandlers();
keepBuildAlive();
process.exitCode = await main(argv);
