import { test } from 'node:test';
import assert from 'node:assert/strict';
test('t', () => assert.equal(1, 1));
