import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { globbySync } from 'globby';
import { REPO } from './helpers/project.ts';

/**
 * The launcher runs tasks/ and schemas/ compiled file by file into node_modules/.cache/distill/
 * (bin/precompile.js), where only `import.meta.url` is mapped back to the .ts source. Code that
 * reads its own location another way would find the compiled copy instead, and a JSON or computed
 * import would not be rewritten to the compiled file: it would work under tsx and fail, or read
 * the wrong file, in the real command. This keeps such code out of the sources the launcher runs.
 */
test('code the launcher compiles uses only what the compiled build maps back to the source', () => {
  // [pattern, what, checked on the line with its string literals blanked (code inside a string is not compiled here)]
  const rules: [RegExp, string, boolean][] = [
    [
      /import\.meta\.(?:dirname|filename)\b/,
      'import.meta.dirname / filename (use fileURLToPath(import.meta.url))',
      true,
    ],
    [
      /import\.meta\.resolve\(\s*['"`]\.{1,2}\//,
      'import.meta.resolve of a relative path (use new URL(path, import.meta.url))',
      false,
    ],
    [
      /\bfrom\s+['"][^'"]+\.json['"]|\bimport\(\s*['"][^'"]+\.json['"]/,
      'a JSON import (read the file instead)',
      false,
    ],
    [/\bimport\(\s*[^\s'"`]/, 'a computed dynamic import (name the module literally)', true],
    [
      /\bz\.locales\b|\bzod\/(?:v4\/)?(?:core\/)?locales\b/,
      "zod's locales (run-all's bundle leaves them out: bin/precompile.js ensureBundle)",
      false,
    ],
  ];
  const found: string[] = [];
  for (const f of globbySync(['tasks/**/*.ts', 'schemas/**/*.ts', '!tasks/dev/**'], { cwd: REPO })) {
    readFileSync(`${REPO}/${f}`, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const blanked = line.replace(/`[^`]*`|'[^']*'|"[^"]*"/g, "''");
        for (const [re, what, onBlanked] of rules)
          if (re.test(onBlanked ? blanked : line)) found.push(`${f}:${i + 1}: ${what}`);
      });
  }
  assert.deepEqual(found, []);
});

test("npm test's build (tasks/, schemas/, test/) and the launcher's (tasks/, schemas/) report the same code fingerprint", async () => {
  // test processes enqueue jobs that `distill worker` processes (the launcher's build) run; a
  // worker refuses a job of other code, so the two builds must name the product's code alike
  // by URL from this file's source (import.meta.url names the .ts file): a compiled test file run
  // without module hooks (test/helpers/run-tests.mjs) sits in the build, where bin/ is not
  const { ensureBuild, FINGERPRINT_FILE } = (await import(
    new URL('../bin/precompile.js', import.meta.url).href
  )) as {
    ensureBuild: (o?: { dirs?: string[] }) => Promise<string>;
    FINGERPRINT_FILE: string;
  };
  const launcher = await ensureBuild();
  const tests = await ensureBuild({ dirs: ['tasks', 'schemas', 'test'] });
  assert.notEqual(launcher, tests);
  assert.equal(
    readFileSync(`${tests}/${FINGERPRINT_FILE}`, 'utf8'),
    readFileSync(`${launcher}/${FINGERPRINT_FILE}`, 'utf8'),
  );
});
