import { test } from 'node:test';
import { caseTitle } from './catalogue.ts';
import { PROCESS_CASES } from './cases-process.ts';

// RELIABILITY.md §5 D (process level); the crash, fault, lock, verify and determinism cases are test files of their own.
for (const c of PROCESS_CASES) {
  if (c.run) test(caseTitle(c), c.run);
  else if (c.pending) test(caseTitle(c), { todo: c.pending });
}
