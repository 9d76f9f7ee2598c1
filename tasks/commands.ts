import { parseArgs } from 'node:util';
import { buildEvidence } from './build-evidence.ts';
import { exportPreference } from './export-preference.ts';
import { exportRag } from './export-rag.ts';
import { exportSft } from './export-sft.ts';
import { log } from './lib/log.ts';
import { runPhase } from './lib/phase.ts';
import { findRoot, loadConfig } from './lib/project.ts';
import { UserError } from './lib/result.ts';
import { score } from './score.ts';
import { formatTrace, traceRow } from './trace.ts';

/** One CLI command: its usage line, what it does, and how to run it. */
interface Command {
  usage: string;
  summary: string;
  run: (root: string, argv: string[]) => Promise<number>;
}

const phaseCommand = (name: string, fn: typeof buildEvidence, summary: string): Command => ({
  usage: name,
  summary,
  run: async (root, argv) => {
    parseArgs({ args: argv, options: {}, allowPositionals: false });
    return runPhase(name, root, () => fn(root, loadConfig(root)));
  },
});

/** Every command, in the order `--help` lists them (pipeline order). */
export const COMMANDS: Record<string, Command> = {
  'build-evidence': phaseCommand('build-evidence', buildEvidence, 'Materialize every source row into data/evidence/YYYY/MM/DD/<stream>.jsonl, or quarantine it with a reason'),
  score: phaseCommand('score', score, 'Join evidence by trace_id and place each run in one category by the rule table → data/scored-runs/'),
  'export-rag': phaseCommand('export-rag', exportRag, 'Accepted / partially accepted runs and knowledge documents → exports/rag/playbooks.jsonl (chunked)'),
  'export-sft': {
    usage: 'export-sft [--include-partial]',
    summary: 'Strictly accepted runs → exports/sft/ (SFT rows, OpenAI, TRL, HF); --include-partial adds corrected partial runs → exports/sft-partial/',
    run: async (root, argv) => {
      const { values } = parseArgs({ args: argv, options: { 'include-partial': { type: 'boolean', default: false } }, allowPositionals: false });
      const includePartial = values['include-partial'] === true;
      return runPhase(includePartial ? 'export-sft-partial' : 'export-sft', root, () => exportSft(root, loadConfig(root), { includePartial }));
    },
  },
  'export-preference': phaseCommand('export-preference', exportPreference, 'Accepted vs rejected attempts, human corrections and judgments → exports/preference/ (DPO pairs + unpaired KTO)'),
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
  trace: {
    usage: 'trace <export-row-id> [--json]',
    summary: 'Walk an export row (sft_/pref_/kto_/rag_ id) back to its source line and re-check its sig_hash (exit 1 on a mismatch)',
    run: async (root, argv) => {
      const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
      const [id, ...extra] = positionals;
      if (!id || extra.length > 0) throw new UserError('trace takes exactly one export row id, e.g. `distill trace sft_0123456789abcdef01234567`');
      const report = await traceRow(root, id);
      process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTrace(report)}\n`);
      return report.ok ? 0 : 1;
    },
  },
};

/** The text of `distill --help`. */
export function helpText(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`);
  return [
    'distill: turn LLM and agent traces into gated RAG, SFT and preference training data',
    '',
    'Usage: distill <command> [options] [--root DIR]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  --root DIR   project root (default: nearest folder with distill.config.json)',
    '  -h, --help   show this help',
    '',
    'Each phase is also an npm script with incremental rebuilds: npm run <command>.',
  ].join('\n');
}

/** Entry point: parses argv and runs a command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    log.error(`unknown command "${cmd}". Run \`distill --help\` for the list.`);
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
    return await command.run(findRoot(root), args);
  } catch (e) {
    if (e instanceof UserError) {
      log.error(e.message);
      return e.exitCode;
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      log.error(`${(e as Error).message}\nUsage: distill ${command.usage}`);
      return 2;
    }
    throw e;
  }
}
