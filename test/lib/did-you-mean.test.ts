import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closestName, didYouMean } from '../../tasks/lib/did-you-mean.ts';

const ADAPTERS = [
  'gateway-call',
  'agent-trajectory',
  'tool-outcome',
  'tau-bench',
  'swe-agent',
  'langfuse',
  'langsmith',
];

test('closestName: typos of adapters, streams, options and commands find their name', () => {
  assert.equal(closestName('gateway-cal', ADAPTERS), 'gateway-call');
  assert.equal(closestName('agent-trajectroy', ADAPTERS), 'agent-trajectory');
  assert.equal(closestName('langsmth', ADAPTERS), 'langsmith');
  assert.equal(closestName('Gateway-Calls', ['gateway_calls', 'tool_outcomes']), 'gateway_calls');
  assert.equal(closestName('incude-partial', ['include-partial', 'json']), 'include-partial');
  assert.equal(closestName('as_off', ['as_of', 'sources', 'limits']), 'as_of');
  assert.equal(closestName('scroe', ['score', 'screen', 'scan']), 'score');
});

test('closestName: nothing close gives null, so no wrong suggestion is printed', () => {
  assert.equal(closestName('openai', ADAPTERS), null);
  assert.equal(closestName('x', ['json']), null);
  assert.equal(closestName('anything', []), null);
  assert.equal(didYouMean('totally-different', ADAPTERS), '');
  assert.equal(didYouMean('tau-bnech', ADAPTERS), ' did you mean "tau-bench"?');
});
