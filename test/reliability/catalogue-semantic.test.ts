import { test } from 'node:test';
import { caseTitle } from './catalogue.ts';
import { SEMANTIC_CASES } from './cases-semantic.ts';

// RELIABILITY.md §5 C (schema / semantic level), end to end through build-evidence, score and the exports.
for (const c of SEMANTIC_CASES) {
  if (c.run) test(caseTitle(c), c.run);
  else if (c.pending) test(caseTitle(c), { todo: c.pending });
}
