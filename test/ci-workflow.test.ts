import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { REPO } from './helpers/project.ts';

const WORKFLOW = '.github/workflows/ci.yml';
const content = readFileSync(`${REPO}/${WORKFLOW}`, 'utf8');

test("the GitHub Actions workflow passes GitHub's own workflow parser (actions/languageservices)", () => {
  const res = parseWorkflow({ name: WORKFLOW, content }, new NoOperationTraceWriter());
  assert.deepEqual(
    res.context.errors.getErrors().map((e) => e.message),
    [],
  );
  // the parser does catch mistakes: a misspelt key fails
  const bad = parseWorkflow(
    { name: 'bad.yml', content: content.replace('runs-on:', 'runs_on:') },
    new NoOperationTraceWriter(),
  );
  assert.ok(bad.context.errors.getErrors().length > 0);
});

test('Node is pinned to an exact version and the wireit cache is set up before the first npm command', () => {
  assert.match(content, /NODE_VERSION: '\d+\.\d+\.\d+'/);
  const jobs = (content.split(/^jobs:$/m)[1] ?? '').split(/^  [a-z][a-z-]*:$/m).slice(1);
  assert.equal(jobs.length, 2, 'build and release-freeze jobs');
  for (const job of jobs) {
    const setup = job.indexOf('google/wireit@setup-github-actions-caching/v2');
    const firstNpm = job.search(/run: npm /);
    assert.ok(
      setup !== -1 && firstNpm !== -1 && setup < firstNpm,
      'setup-github-actions-caching must precede npm ci / npm run',
    );
  }
});

test('every npm script the workflow runs exists in package.json', () => {
  const scripts = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')).scripts as Record<string, string>;
  const used = [...content.matchAll(/run: npm (?:run )?([a-z:-]+)/g)]
    .map((m) => m[1] as string)
    .filter((s) => s !== 'ci');
  assert.deepEqual(used.sort(), ['acceptance', 'release-freeze', 'run-all', 'test']);
  for (const s of used)
    assert.ok(s in scripts, `the workflow runs npm ${s}, which package.json does not define`);
});
