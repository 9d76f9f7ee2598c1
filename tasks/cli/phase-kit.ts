// What running a command needs beyond help: the phase runner and its receipts, the project and
// config loader (zod), the phase registry, and the stop handlers. commands.ts and main.ts import
// this module when a command runs, not at start-up (docs/performance.md, "CLI start-up"); every
// phase loads it, so tasks/dev/wireit-inputs.ts counts its closure among every phase's inputs.
export { runPhase } from '../lib/phase.ts';
export { forgetRun } from '../lib/receipts.ts';
export { resetFaultCounts } from '../lib/fault.ts';
export { findRoot, loadConfig } from '../lib/project.ts';
export { activePhases, excludedReasons } from '../phases/registry.ts';
export { installStopHandlers } from '../lib/stop.ts';
