import { test } from 'node:test';
import { caseTitle } from './catalogue.ts';
import { JSON_CASES } from './cases-json.ts';

// RELIABILITY.md §5 B (line / JSON level), end to end through build-evidence.
for (const c of JSON_CASES) {
  if (c.run) test(caseTitle(c), c.run);
  else if (c.pending) test(caseTitle(c), { todo: c.pending });
}
