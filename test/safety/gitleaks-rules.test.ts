import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Budget } from '../../tasks/lib/safety/budget.ts';
import {
  GITLEAKS_NOT_CONVERTED,
  GITLEAKS_ORIGIN,
  GITLEAKS_RULE_DATA,
} from '../../tasks/lib/safety/gitleaks-rules.ts';
import { goRegexToJs } from '../../tasks/lib/safety/rules/go-regex.ts';
import { REPLACED_GITLEAKS_RULES, SECRET_RULES } from '../../tasks/lib/safety/secret-rules.ts';
import { newScan, scanRecord } from '../../tasks/lib/safety/secret-scan.ts';

const rulesHit = (text: string): string[] => [
  ...new Set(scanRecord({ text }, newScan(new Budget())).map((h) => h.rule)),
];

test('the gitleaks table records its origin, licence and commit, and converts all but path-only rules', () => {
  assert.match(GITLEAKS_ORIGIN.commit, /^[0-9a-f]{40}$/);
  assert.match(GITLEAKS_ORIGIN.licence, /^MIT License/);
  assert.match(GITLEAKS_ORIGIN.sha256, /^[0-9a-f]{64}$/);
  assert.ok(GITLEAKS_RULE_DATA.length >= 200, `${GITLEAKS_RULE_DATA.length} rules`);
  for (const n of GITLEAKS_NOT_CONVERTED) assert.match(n.why, /file paths only/, n.id);
});

test('every converted rule compiles, and every gitleaks rule is in the table or replaced by a reason', () => {
  const ids = new Set(SECRET_RULES.map((r) => r.id));
  for (const d of GITLEAKS_RULE_DATA) {
    assert.doesNotThrow(() => new RegExp(d.js.source, d.js.flags), d.id);
    assert.ok(
      ids.has(d.id) || REPLACED_GITLEAKS_RULES[d.id] !== undefined,
      `${d.id} is neither used nor replaced`,
    );
  }
});

test("gitleaks' own literal examples: true positives are found by their rule, false positives are not", () => {
  let tps = 0;
  let fps = 0;
  const problems: string[] = [];
  for (const d of GITLEAKS_RULE_DATA) {
    const replaced = REPLACED_GITLEAKS_RULES[d.id] !== undefined;
    for (const t of d.examples.tps) {
      tps++;
      const hit = rulesHit(t);
      // distill's jwt is stricter by design (REPLACED_GITLEAKS_RULES): a header that does not decode is no token
      if (d.id === 'jwt' && hit.length === 0) continue;
      if (replaced ? hit.length === 0 : !hit.includes(d.id))
        problems.push(
          `${d.id}: missed ${JSON.stringify(t.slice(0, 80))} (hit ${hit.join(', ') || 'nothing'})`,
        );
    }
    for (const f of d.examples.fps) {
      fps++;
      if (!replaced && rulesHit(f).includes(d.id))
        problems.push(`${d.id}: false positive on ${JSON.stringify(f.slice(0, 80))}`);
    }
  }
  process.stdout.write(
    `gitleaks examples: ${tps} true positives, ${fps} false positives replayed; ${problems.length} problems\n`,
  );
  assert.ok(tps >= 100 && fps >= 100, `${tps} / ${fps} examples`);
  assert.deepEqual(problems, []);
});

test('Go regex conversion: inline flags, \\z, named groups, POSIX classes, ASCII \\s and .', () => {
  const cases: [string, string[], string[]][] = [
    ['(?i)abc', ['ABC', 'aBc'], ['abd']],
    ['x(?i:ab)y', ['xABy'], ['XABy', 'xaBY']],
    ['(?i)a(?-i:B)c', ['AbC'.replace('b', 'B')], ['Abc']],
    ['\\b(tok_[[:alnum:]]{4})(?:\\s|\\z)', ['tok_ab12'], ['tok_ab-1']],
    ['(?P<g>ab)', ['ab'], ['a']],
    ['a.c', ['abc'], ['a\nc']],
    ['(?s:a.c)', ['a\nc'], ['ac']],
    ['a\\sb', ['a b'], ['a\u00a0b']],
  ];
  for (const [go, yes, no] of cases) {
    const { source, flags } = goRegexToJs(go);
    const re = new RegExp(`^(?:${source})$`, flags.replace('g', ''));
    for (const y of yes)
      assert.ok(
        re.test(y) || new RegExp(source, flags.replace('g', '')).test(y),
        `${go} should match ${JSON.stringify(y)}`,
      );
    for (const n of no)
      assert.ok(
        !new RegExp(`^(?:${source})$`, flags.replace('g', '')).test(n),
        `${go} should not match ${JSON.stringify(n)}`,
      );
  }
  assert.throws(() => goRegexToJs('\\pL'), /unsupported/);
});

test('every rule stays fast on hostile text (a backtracking engine is not RE2)', () => {
  const slow: string[] = [];
  for (const r of SECRET_RULES) {
    const k = r.keywords[0] ?? 'x';
    let worst = 0;
    for (const s of [
      (k + ' ').repeat(10_000),
      k + 'a'.repeat(30_000),
      k + '= ' + 'a1'.repeat(15_000),
      (k + '\n').repeat(10_000),
      k + '-'.repeat(30_000),
    ]) {
      const re = new RegExp(r.regex.source, r.regex.flags);
      const t0 = performance.now();
      let n = 0;
      for (let m = re.exec(s); m !== null && n < 100_000; m = re.exec(s)) {
        n++;
        if (m[0].length === 0) re.lastIndex++;
      }
      worst = Math.max(worst, performance.now() - t0);
    }
    if (worst > 500) slow.push(`${r.id} ${worst.toFixed(0)} ms`);
  }
  assert.deepEqual(slow, []);
});
