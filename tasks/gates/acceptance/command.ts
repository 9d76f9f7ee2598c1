import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { allFailed, evaluate, INVARIANTS, type InvariantResult } from './invariants.ts';
import { writeFileAtomic } from '../../lib/fs-atomic.ts';
import { log } from '../../lib/log.ts';
import { codeVersion, CONFIG_FILE, loadConfig } from '../../lib/project.ts';
import { REPORTS_DIR } from '../../lib/receipts.ts';
import { UserError } from '../../lib/result.ts';
import { loadExpected } from './expected.ts';
import {
  ACCEPTANCE_JSON,
  ACCEPTANCE_MD,
  acceptanceJson,
  acceptanceMarkdown,
  consoleLines,
  fixtureSha256,
} from './report.ts';
import { buildFixture, FixtureBuildError, type PipelineDeps } from './runner.ts';

/** The acceptance fixture, relative to the project root. */
export const FIXTURE_DIR = 'test/fixtures/acceptance';

/**
 * `distill acceptance` (npm run acceptance): builds the fixture three times in temporary folders,
 * checks the 22 invariants, prints one line per invariant and `N/22 passed`, and writes
 * reports/distillation/phase6-acceptance-report.md and acceptance.json. Exit 0 only when all pass.
 * --fixture: another fixture folder; --report-dir: where the reports go; --keep: keep the builds;
 * --json: print acceptance.json to stdout.
 */
export async function acceptanceCommand(root: string, argv: string[], deps: PipelineDeps): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      fixture: { type: 'string' },
      'report-dir': { type: 'string' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const fixtureDir = resolve(root, values.fixture ?? FIXTURE_DIR);
  if (!existsSync(join(fixtureDir, CONFIG_FILE)))
    throw new UserError(
      'FIXTURE_INVALID',
      `${fixtureDir} has no ${CONFIG_FILE}: not an acceptance fixture (the gate's own is ${FIXTURE_DIR}/)`,
    );
  const reportDir = resolve(root, values['report-dir'] ?? REPORTS_DIR);
  // before the builds: the cached value would otherwise be a temporary folder's "unknown"
  const code = codeVersion(root);
  const expected = loadExpected(fixtureDir);
  const bundledStreams = loadConfig(root).sources.map((s) => ({ stream: s.stream, adapter: s.adapter }));
  const t0 = performance.now();
  let results: InvariantResult[];
  let kept = '';
  try {
    const built = await buildFixture({
      fixtureDir,
      expected,
      bundledStreams,
      deps,
      keep: values.keep === true,
    });
    if (values.keep) kept = `builds kept in ${built.workDir}`;
    results = evaluate(built.snapshot);
  } catch (e) {
    if (!(e instanceof FixtureBuildError)) throw e;
    log.error(`acceptance: ${e.message}:\n${e.log}`);
    results = allFailed(`not checked: ${e.message} (${e.log.split('\n').slice(-2).join(' / ')})`);
  }
  const fixtureSha = fixtureSha256(fixtureDir);
  const json = acceptanceJson(results, fixtureSha, code);
  const jsonPath = join(reportDir, ACCEPTANCE_JSON);
  const mdPath = join(reportDir, ACCEPTANCE_MD);
  await writeFileAtomic(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  await writeFileAtomic(
    mdPath,
    acceptanceMarkdown(results, {
      fixtureDir: relative(root, fixtureDir).split('\\').join('/') || '.',
      fixtureSha,
      codeVersion: code,
    }),
  );
  if (values.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  log.report(
    [
      consoleLines(results),
      `${json.passed === INVARIANTS.length ? '✔' : '✖'} acceptance: ${json.passed}/${json.total} invariants hold on ${relative(root, fixtureDir) || '.'} (3 builds, ${secs} s); report: ${relative(root, mdPath)}, ${relative(root, jsonPath)}${kept ? `; ${kept}` : ''}`,
    ].join('\n'),
  );
  return json.passed === json.total ? 0 : 1;
}
