// npm test's runner: `node test/helpers/run-tests.mjs [node --test options] <test/**/*.test.ts>…`
// compiles tasks/, schemas/ and test/ (bin/precompile.js, as test/helpers/compiled.mjs does) and runs
// `node --import ./test/helpers/compiled.mjs --test` on the compiled .js of the test files in the build, so
// the test processes load compiled JavaScript directly, without module hooks: a hooks thread and a
// round trip to it per import cost each test file 0.3-1 s of CPU (docs/ci.md). The reporter names
// each file by its source (tasks/dev/test-reporter.mjs). DISTILL_TSX=1 runs the .ts files through
// tsx, as before. Plain JavaScript: it runs before anything is compiled.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ensureBuild, REPO, tsxRequested } from '../../bin/precompile.js';

/**
 * Test files that still run through the hooks: ci-workflow's @actions/workflow-parser imports a
 * JSON module without `with { type: 'json' }`, which plain node refuses and the hooks allow.
 */
const HOOKED = new Set(['test/ci-workflow.test.ts']);

const args = process.argv.slice(2);
let mapped = args;
if (!tsxRequested()) {
  const dir = realpathSync(await ensureBuild({ dirs: ['tasks', 'schemas', 'test'] }));
  mapped = args.map((a) => {
    const rel = relative(REPO, resolve(a)).split('\\').join('/');
    if (!a.endsWith('.ts') || rel.startsWith('..') || HOOKED.has(rel)) return a;
    const js = join(dir, rel.replace(/\.ts$/, '.js'));
    return existsSync(js) ? js : a;
  });
}
const child = spawn(process.execPath, ['--import', './test/helpers/compiled.mjs', '--test', ...mapped], {
  cwd: REPO,
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
