import { parseArgs } from 'node:util';
import { log } from '../lib/log.ts';
import type { PhaseResult } from '../lib/phase.ts';
import type { DistillConfig } from '../../schemas/config.ts';
import { didYouMean } from '../lib/did-you-mean.ts';
import { wrapWords } from './wrap.ts';
import { diskName } from '../lib/disk.ts';
import { describeUserError, ERROR_CODES, IO_ERROR_EXIT, isIoError, UserError } from '../lib/result.ts';

// Start-up (issue #22: every command starts in ≤ 0.5 s): this module holds the command table and
// help, and imports only what help and argument errors need. Everything a command does is imported
// when it runs: the phase runner and its receipts, the project and config loader (zod), the phase
// registry, and each command's own module (secretlint, the OpenAI client, ...). Importing all of
// them cost ~1.7 s of CPU on every CLI call; the phase runner and config loader alone ~0.2 s.

/** The phase runner, config loader and phase registry: loaded on first use. */
const phaseKit = () => import('./phase-kit.ts');

/** One CLI command: its usage line, what it does, and how to run it. */
interface Command {
  usage: string;
  summary: string;
  run: (root: string, argv: string[]) => Promise<number>;
}

type PhaseFn = (root: string, config: DistillConfig) => Promise<PhaseResult>;

const phaseCommand = (name: string, load: () => Promise<PhaseFn>, summary: string): Command => ({
  usage: name,
  summary,
  run: async (root, argv) => {
    parseArgs({ args: argv, options: {}, allowPositionals: false });
    const [fn, { runPhase, loadConfig, excludedReasons }] = await Promise.all([load(), phaseKit()]);
    return runPhase(name, root, () => fn(root, loadConfig(root)), excludedReasons(name));
  },
});

/** Every command, in the order `--help` lists them (pipeline order). */
export const COMMANDS: Record<string, Command> = {
  'build-evidence': {
    usage: 'build-evidence [--accept-source-changes]',
    summary:
      'Materialize every source row into data/evidence/YYYY/MM/DD/<stream>.jsonl, or quarantine it with a reason; stops when a source matches nothing, a file vanished, shrank or was edited since the last build, or is refused whole (NO_SOURCES, SOURCE_MISSING, SOURCE_TRUNCATED, SOURCE_REFUSED) unless --accept-source-changes',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { 'accept-source-changes': { type: 'boolean', default: false } },
        allowPositionals: false,
      });
      const [{ buildEvidence }, { runPhase, loadConfig }] = await Promise.all([
        import('../phases/build-evidence/run.ts'),
        phaseKit(),
      ]);
      return runPhase('build-evidence', root, () =>
        buildEvidence(root, loadConfig(root), {
          acceptSourceChanges: values['accept-source-changes'] === true,
        }),
      );
    },
  },
  score: phaseCommand(
    'score',
    async () => (await import('../phases/score/run.ts')).score,
    'Join evidence by trace_id and place each run in one category by the rule table → data/scored-runs/',
  ),
  screen: phaseCommand(
    'screen',
    async () => (await import('../phases/screen/run.ts')).screen,
    'Keep secrets, eval copies and duplicates out of training data and replace PII with placeholders → data/screened/ (what every export reads)',
  ),
  'export-rag': phaseCommand(
    'export-rag',
    async () => (await import('../phases/export-rag/run.ts')).exportRag,
    'Accepted / partially accepted runs and knowledge documents → exports/rag/documents/<day>.jsonl (chunked, one file per day) + a dataset card',
  ),
  'export-sft': {
    usage: 'export-sft [--include-partial]',
    summary:
      'Strictly accepted runs → exports/sft/ (SFT rows, OpenAI, TRL, HF); --include-partial adds corrected partial runs → exports/sft-partial/',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { 'include-partial': { type: 'boolean', default: false } },
        allowPositionals: false,
      });
      const includePartial = values['include-partial'] === true;
      const [{ exportSft }, { runPhase, loadConfig, excludedReasons }] = await Promise.all([
        import('../phases/export-sft/run.ts'),
        phaseKit(),
      ]);
      const phase = includePartial ? 'export-sft-partial' : 'export-sft';
      return runPhase(
        phase,
        root,
        () => exportSft(root, loadConfig(root), { includePartial }),
        excludedReasons(phase),
      );
    },
  },
  'export-preference': phaseCommand(
    'export-preference',
    async () => (await import('../phases/export-preference/run.ts')).exportPreference,
    'Accepted vs rejected attempts, human corrections and judgments → exports/preference/ (DPO pairs + unpaired KTO)',
  ),
  'export-all': {
    usage: 'export-all',
    summary: 'Runs export-rag, export-sft and export-preference',
    run: async (root, argv) => {
      parseArgs({ args: argv, options: {}, allowPositionals: false });
      let code = 0;
      for (const name of ['export-rag', 'export-sft', 'export-preference'] as const) {
        const c = await (COMMANDS[name] as Command).run(root, []);
        if (c !== 0 && code === 0) code = c;
      }
      return code;
    },
  },
  'index-rag': {
    usage: 'index-rag',
    summary:
      'BM25 retrieval index over exports/rag/ → data/rag-index/ (one segment per RAG shard, stats.json, _manifest.json)',
    run: async (root, argv) => {
      parseArgs({ args: argv, options: {}, allowPositionals: false });
      const [{ indexRag }, { runPhase }] = await Promise.all([
        import('../phases/index-rag/run.ts'),
        phaseKit(),
      ]);
      return runPhase('index-rag', root, () => indexRag(root));
    },
  },
  replay: {
    usage:
      'replay --task "<input>" [--kind text|json] [--no-retrieval] [--allow-escalation] [--dry-run] [--k N] [--json]',
    summary:
      'Answer a task with the local model (OpenAI-compatible API), grounded on the top-k RAG documents; validates the answer, logs the call to reports/replay/; --dry-run calls no model',
    run: async (root, argv) => (await import('../replay/replay-command.ts')).replayCommand(root, argv),
  },
  'replay-eval': {
    usage: 'replay-eval [--k N] [--kind text|json] [--limit N] [--require-model] [--json]',
    summary:
      'Held-out test tasks with and without retrieval: recall@k, validity, agreement, latency, tokens → reports/replay/eval.{json,md}; model arms "unavailable" when no model runs',
    run: async (root, argv) => (await import('../replay/eval-command.ts')).replayEvalCommand(root, argv),
  },
  worker: {
    usage: 'worker [--concurrency N]',
    summary:
      'Process the partition jobs of build-evidence, score and screen from the job queue (DISTILL_QUEUE=redis://host:port/db) for this project folder, shared with the machine that runs the phases (docs/scale-out.md); N jobs at a time (default: the cores); SIGTERM finishes the running jobs and stops',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { concurrency: { type: 'string' } },
        allowPositionals: false,
      });
      const c = values.concurrency;
      if (c !== undefined && !/^[1-9][0-9]{0,3}$/.test(c))
        throw new UserError('USAGE', `--concurrency takes a whole number of jobs, 1 or more; got "${c}"`);
      const { loadConfig } = await phaseKit();
      loadConfig(root); // its "queue" setting, and a config error before anything starts
      const { runWorker } = await import('../lib/queue/worker.ts');
      return runWorker(root, { concurrency: c === undefined ? null : Number(c) });
    },
  },
  queue: {
    usage: 'queue [--json]',
    summary:
      'The job queue (DISTILL_QUEUE): waiting, active, completed and failed jobs per phase, the workers connected, and the last failures with their partition, worker and error',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false } },
        allowPositionals: false,
      });
      const { loadConfig } = await phaseKit();
      loadConfig(root);
      const { formatQueueStatus, queueStatus } = await import('../lib/queue/status.ts');
      const s = await queueStatus(root);
      process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatQueueStatus(s)}\n`);
      return s.phases.some((p) => p.failed > 0) ? 1 : 0;
    },
  },
  verify: {
    usage: 'verify [--json]',
    summary:
      'Re-hash every published file of every phase folder against its _manifest.json; exit 1 naming each truncated, changed, missing or extra file',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false } },
        allowPositionals: false,
      });
      const { formatVerify, verifyProject } = await import('../inspect/verify.ts');
      const report = await verifyProject(root);
      process.stdout.write(
        values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerify(report)}\n`,
      );
      return report.ok ? 0 : 1;
    },
  },
  'run-all': {
    usage: 'run-all [--json] [--accept-source-changes]',
    summary:
      'Runs every phase in order (build-evidence → score → exports), then writes reports/distillation/<run_id>/summary.json and drift.json and prints the funnel and the drift verdict',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: {
          json: { type: 'boolean', default: false },
          begin: { type: 'boolean', default: false },
          collect: { type: 'boolean', default: false },
          'accept-source-changes': { type: 'boolean', default: false },
        },
        allowPositionals: false,
      });
      // build-evidence reads it (the same as its own flag); `npm run run-all` passes it through the environment
      if (values['accept-source-changes']) process.env['DISTILL_ACCEPT_SOURCE_CHANGES'] = '1';
      // --begin / --collect are the first and last steps of `npm run run-all` (wireit builds the phases in between)
      if (values.begin) return (await import('../run/begin.ts')).beginRun(root);
      const [{ runAll }, { activePhases }] = await Promise.all([import('../run/run-all.ts'), phaseKit()]);
      const phases = activePhases((name) => name in COMMANDS);
      const runPhaseArgv = (args: readonly string[]) =>
        (COMMANDS[args[0] as string] as Command).run(root, args.slice(1));
      return runAll(
        root,
        { mode: values.collect ? 'collect' : 'run', json: values.json === true },
        { phases, runPhase: runPhaseArgv },
      );
    },
  },
  receipts: {
    usage: 'receipts [--run-id ID] [--check] [--json]',
    summary:
      "Prints a run-all's phases (ran / fresh), the reconcile check, the funnel and the drift verdict (default: the latest run); --check prints only the check; exit 1 when the receipts do not reconcile",
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: {
          'run-id': { type: 'string' },
          check: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
        allowPositionals: false,
      });
      const { showReceipts } = await import('../run/show-receipts.ts');
      return showReceipts(root, {
        ...(values['run-id'] !== undefined ? { runId: values['run-id'] } : {}),
        check: values.check === true,
        json: values.json === true,
      });
    },
  },
  acceptance: {
    usage: 'acceptance [--fixture DIR] [--report-dir DIR] [--keep] [--json]',
    summary:
      'Build the hand-written fixture in test/fixtures/acceptance/ three times (every phase; rerun; sources reversed) in temp folders and check the 22 invariants of docs/acceptance.md; writes reports/distillation/phase6-acceptance-report.md + acceptance.json; exit 1 unless 22/22 pass',
    run: async (root, argv) => {
      const [{ acceptanceCommand }, { activePhases }] = await Promise.all([
        import('../gates/acceptance/command.ts'),
        phaseKit(),
      ]);
      const phases = activePhases((name) => name in COMMANDS);
      return acceptanceCommand(root, argv, {
        phases,
        runPhase: (r, args) => (COMMANDS[args[0] as string] as Command).run(r, args.slice(1)),
      });
    },
  },
  'audit-full': {
    usage: 'audit-full [--json]',
    summary:
      "Verify every phase from what is on disk (16 required checks), compare 10 tracked metrics with the last row of data/_kb/audit_baselines.jsonl (>20 % → warn), write reports/distillation/phase8-full-audit-report.md + audit-metrics.svg and append a chained baseline row (with each phase's manifest digest, compared by later audits of the same build); exit 1 unless 16/16 pass, exit 3 (AUDIT_CHAIN_BROKEN) when the baseline is damaged or differs from the rows committed at git HEAD",
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false } },
        allowPositionals: false,
      });
      const [{ auditFull }, { activePhases }] = await Promise.all([
        import('../gates/audit/audit-full.ts'),
        phaseKit(),
      ]);
      const result = await auditFull(root, { phases: activePhases((name) => name in COMMANDS) });
      if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result.passed === result.total ? 0 : 1;
    },
  },
  'release-freeze': {
    usage: 'release-freeze [--skip-tests] [--json]',
    summary:
      'Run the 6 release gates (clean git, npm test, phase commits, acceptance 22/22, audit-full 16/16, tag distillation-v<version> free), write reports/distillation/release-freeze.md + release-manifest.json and print the git tag command; exit 0 = release-ready; never creates the tag (--skip-tests: only for testing release-freeze, never ready)',
    run: async (root, argv) => {
      const { values } = parseArgs({
        args: argv,
        options: {
          'skip-tests': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
        allowPositionals: false,
      });
      const [{ releaseFreeze }, { activePhases }] = await Promise.all([
        import('../gates/release/release-freeze.ts'),
        phaseKit(),
      ]);
      const manifest = await releaseFreeze(root, {
        skipTests: values['skip-tests'] === true,
        phases: activePhases((name) => name in COMMANDS),
      });
      if (values.json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      return manifest.ready ? 0 : 1;
    },
  },
  scan: {
    usage: 'scan <file>... [--all] [--json]',
    summary:
      "Run screen's secret and PII detectors over JSON / JSONL / .traj files: the rules that hit, with field paths, never the secret (--all: every rule, zero hits too; exit 1 if any secret)",
    run: async (root, argv) => {
      const { values, positionals } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false } },
        allowPositionals: true,
      });
      const [{ formatScan, scanFiles }, { loadConfig }] = await Promise.all([
        import('../inspect/scan.ts'),
        phaseKit(),
      ]);
      const report = await scanFiles(positionals, new Set(loadConfig(root).secret_allowlist));
      process.stdout.write(
        values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatScan(report, values.all === true)}\n`,
      );
      return Object.values(report.secrets).some((c) => c.hits > 0) ? 1 : 0;
    },
  },
  sniff: {
    usage: 'sniff <file>... [--json]',
    summary:
      'Name the format (adapter) of each file with its confidence and reason, or "unknown" with the closest candidates (exit 1 if any is unknown)',
    run: async (root, argv) => {
      const { values, positionals } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false } },
        allowPositionals: true,
      });
      if (positionals.length === 0)
        throw new UserError(
          'USAGE',
          'sniff takes one or more files, e.g. `distill sniff logs/session.jsonl`',
        );
      let limits = { maxLineBytes: 16 * 1024 * 1024, maxDepth: 64 };
      const { loadConfig } = await phaseKit();
      try {
        const c = loadConfig(root);
        limits = { maxLineBytes: c.limits.max_line_bytes, maxDepth: c.limits.max_depth };
      } catch {
        // sniffing needs no valid config; the defaults apply
      }
      const { formatSniff, formatSniffJson, sniffFiles } = await import('../inspect/sniff.ts');
      const results = await sniffFiles(positionals, process.cwd(), limits);
      process.stdout.write(values.json ? `${formatSniffJson(results)}\n` : `${formatSniff(results)}\n`);
      return results.every((r) => r.adapter !== null) ? 0 : 1;
    },
  },
  review: {
    usage:
      'review [--json] | review --decide <run_id> --verdict approve|reject|edit|unsure --reviewer <name> [--answer "<text>" | --answer-file F] [--comment "<text>"] [--at ISO] [--ledger FILE]',
    summary:
      'List the runs awaiting a human decision (needs_human_review) with their context, also in reports/review/queue.md; --decide appends the decision to the human-review ledger that score reads',
    run: async (root, argv) => (await import('../review/review-command.ts')).reviewCommand(root, argv),
  },
  trace: {
    usage: 'trace <export-row-id | export-file.jsonl:line> [--json]',
    summary:
      'Walk an export row (sft_/pref_/kto_/rag_ id, or a row of any export file by file:line, OpenAI rows through their .ids.jsonl sidecar) back to its source line and re-check its sig_hash (exit 1 on a mismatch)',
    run: async (root, argv) => {
      const { values, positionals } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false } },
        allowPositionals: true,
      });
      const [id, ...extra] = positionals;
      if (!id || extra.length > 0)
        throw new UserError(
          'USAGE',
          'trace takes exactly one export row id or file:line, e.g. `distill trace sft_0123456789abcdef01234567` or `distill trace exports/sft/openai/train/2025-01-02.jsonl:3`',
        );
      const { formatTrace, traceRow } = await import('../inspect/trace.ts');
      const { idAt, isRowLocator } = await import('../inspect/row-locator.ts');
      const report = await traceRow(root, isRowLocator(id) ? idAt(root, id) : id);
      process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTrace(report)}\n`);
      return report.ok ? 0 : 1;
    },
  },
};

/** Width help is wrapped to: the terminal's (at most 120), or 100 columns when stdout is not a TTY. */
export function helpWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? Math.min(process.stdout.columns, 120) : 100;
}

/** Text wrapped to `width` columns, the first line indented by `indent` spaces, the others by `hanging`. */
function wrapped(text: string, width: number, indent: number, hanging = indent): string {
  return wrapWords(text, Math.max(20, width - hanging))
    .split('\n')
    .map((l, i) => ' '.repeat(i === 0 ? indent : hanging) + l)
    .join('\n');
}

/** The exit-code table: every ERROR_CODES entry under its exit code (the same table as docs/recovery-runbook.md). */
export function exitCodeLines(width = 100): string[] {
  const byExit = new Map<number, string[]>();
  for (const [code, { exit, meaning }] of Object.entries(ERROR_CODES))
    byExit.set(exit, [...(byExit.get(exit) ?? []), `${code}: ${meaning}`]);
  const lines = ['Exit codes:', '  0   done'];
  for (const [exit, entries] of [...byExit].sort((a, b) => a[0] - b[0])) {
    lines.push(`  ${String(exit).padEnd(3)} ${EXIT_MEANINGS[exit] ?? ''}`);
    for (const e of entries) lines.push(wrapped(e, width, 6));
  }
  lines.push(wrapped('any other failure is a bug: exit 1 with its stack', width, 2));
  return lines;
}

/** What each exit code means as a whole. */
const EXIT_MEANINGS: Record<number, string> = {
  1: 'a check found a problem (also: a gate or audit not passing)',
  2: 'fix the input or the invocation, then rerun',
  3: 'the audit baseline is damaged (docs/recovery-runbook.md)',
  74: 'an I/O error: nothing was published',
  75: 'another run holds the lock, or another build is running',
  130: 'stopped (a signal, or its build is gone): nothing published',
};

/** The text of `distill --help`, wrapped to `width` columns. */
export function helpText(width = helpWidth()): string {
  const lines = Object.values(COMMANDS).flatMap((c) => [
    wrapped(c.usage, width, 2, 4),
    wrapped(c.summary, width, 6),
  ]);
  return [
    wrapped('distill: turn LLM and agent traces into gated RAG, SFT and preference training data', width, 0),
    '',
    'Usage: distill <command> [options] [--root DIR]',
    '       distill help <command>',
    '       distill help exit-codes',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    wrapped('--root DIR   project root (default: nearest folder with distill.config.json)', width, 2, 15),
    '  -h, --help   show this help',
    '',
    ...exitCodeLines(width),
    '',
    wrapped('Each phase is also an npm script with incremental rebuilds: npm run <command>.', width, 0),
  ].join('\n');
}

/** `distill help <topic>`: one command's usage and summary, or the exit codes. */
function helpTopic(topic: string, width = helpWidth()): string {
  if (topic === 'exit-codes') return exitCodeLines(width).join('\n');
  const c = COMMANDS[topic];
  if (!c)
    throw new UserError(
      'USAGE',
      `no command "${topic}";${didYouMean(topic, [...Object.keys(COMMANDS), 'exit-codes']) || ' run `distill --help` for the list'}`,
    );
  return [`Usage: distill ${c.usage} [--root DIR]`, '', wrapped(c.summary, width, 2)].join('\n');
}

/** The long options a command accepts, read from its usage line. */
function optionsOf(c: Command): string[] {
  return [...new Set([...c.usage.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]))];
}

/** True when argv asks for help (`distill`, `--help`, `help [topic]`, `<command> --help`): nothing runs. */
export function isHelpRequest(argv: readonly string[]): boolean {
  const [cmd, ...rest] = argv;
  return (
    !cmd ||
    cmd === '-h' ||
    cmd === '--help' ||
    cmd === 'help' ||
    rest.includes('--help') ||
    rest.includes('-h')
  );
}

/** Entry point: parses argv and runs a command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || (cmd === 'help' && rest.length === 0)) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (isHelpRequest(argv)) {
    try {
      process.stdout.write(`${helpTopic(cmd === 'help' ? (rest[0] as string) : cmd)}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      log.error(describeUserError(e));
      return e.exitCode;
    }
  }
  const command = COMMANDS[cmd];
  if (!command) {
    log.error(
      `unknown command "${cmd}";${didYouMean(cmd, Object.keys(COMMANDS)) || ''} Run \`distill --help\` for the list. [USAGE]`,
    );
    return 2;
  }
  let root: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (a === '--root') root = rest[++i];
    else if (a.startsWith('--root=')) root = a.slice(7);
    else args.push(a);
  }
  try {
    const { findRoot, forgetRun, resetFaultCounts } = await phaseKit();
    forgetRun();
    resetFaultCounts();
    return await command.run(findRoot(root), args);
  } catch (e) {
    if (e instanceof UserError) {
      log.error(describeUserError(e));
      return e.exitCode;
    }
    if (isIoError(e)) {
      // outside a phase (begin-run, run-all's reports, ...): the same one line as a phase's
      log.error(
        `${cmd}: I/O error on ${diskName(e.path ?? root ?? process.cwd())}: ${e.message}. Fix the cause (free disk space, check the device or permissions) and rerun. [IO_ERROR]`,
      );
      return IO_ERROR_EXIT;
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const unknown = /^Unknown option '(--?[^']+)'/.exec((e as Error).message)?.[1];
      const hint = unknown
        ? didYouMean(
            unknown.replace(/^-+/, ''),
            optionsOf(command).map((o) => o.slice(2)),
          )
        : '';
      const msg = (e as Error).message.split('. To specify a positional')[0];
      log.error(
        `${msg}${hint ? `;${hint.replace(/"([^"]+)"/, '"--$1"')}` : ''}\nUsage: distill ${command.usage} [USAGE]`,
      );
      return 2;
    }
    throw e;
  }
}
