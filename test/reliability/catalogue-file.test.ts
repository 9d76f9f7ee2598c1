import { test } from 'node:test';
import { caseTitle } from './catalogue.ts';
import { FILE_CASES } from './cases-file.ts';

// RELIABILITY.md §5 A (file and filesystem level), end to end through build-evidence.
for (const c of FILE_CASES) {
  if (c.run) test(caseTitle(c), c.run);
  else if (c.pending) test(caseTitle(c), { todo: c.pending });
}
