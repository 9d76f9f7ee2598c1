import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { ChatMessage } from '../schemas/chat.ts';
import { REPO, runCli } from './helpers/project.ts';

/**
 * The recorded files of every claimed format in ../shared/real-traces/formats/ (SOURCES.md there),
 * read with `"adapter": "auto"` as a new user would: each is recognised as its format, every run
 * holds the turns, tool calls and results the file holds, every score has its run, and no line the
 * format documents as valid is quarantined. Optional: skipped when the folder is absent.
 */
const FORMATS = resolve(REPO, '../shared/real-traces/formats');
const skip = existsSync(FORMATS)
  ? false
  : `real format files not found at ${FORMATS} (optional: they sit beside the checkout on the dev machines)`;

interface Rec {
  kind: string;
  trace_id: string | null;
  flags: string[];
  run?: { messages: ChatMessage[]; tools: unknown[] };
  provenance: { source_file: string };
}

async function build(): Promise<{
  dir: string;
  records: Rec[];
  health: { files: Array<Record<string, unknown>> };
  quarantine: Array<Record<string, unknown>>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'distill-real-formats-'));
  const sources: Array<Record<string, unknown>> = [];
  for (const folder of readdirSync(FORMATS).sort()) {
    if (folder.endsWith('.md')) continue;
    mkdirSync(join(dir, 'data/in', folder), { recursive: true });
    cpSync(join(FORMATS, folder), join(dir, 'data/in', folder), { recursive: true });
    sources.push({
      stream: folder.replace(/-/g, '_'),
      adapter: 'auto',
      files: [`data/in/${folder}/*.jsonl`],
    });
  }
  writeFileSync(
    join(dir, 'distill.config.json'),
    JSON.stringify({ schema_version: 1, as_of: '2027-01-01T00:00:00.000Z', sources }),
  );
  const r = await runCli(['build-evidence', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'data/evidence/_manifest.json'), 'utf8')) as {
    files: Array<{ path: string }>;
  };
  const records: Rec[] = [];
  const quarantine: Array<Record<string, unknown>> = [];
  for (const f of manifest.files) {
    if (!f.path.endsWith('.jsonl')) continue;
    const rows = readFileSync(join(dir, f.path), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    if (f.path.includes('_quarantine')) quarantine.push(...rows);
    else records.push(...rows);
  }
  const health = JSON.parse(readFileSync(join(dir, 'data/evidence/_health.json'), 'utf8'));
  return { dir, records, health, quarantine };
}

/** Every call has its result right after its turn (before the next assistant turn), and no result is orphaned. */
function pairing(messages: readonly ChatMessage[]): {
  calls: number;
  unanswered: string[];
  orphans: string[];
} {
  const unanswered: string[] = [];
  const orphans: string[] = [];
  let calls = 0;
  const seen = new Set<string>();
  messages.forEach((m, i) => {
    if (m.role === 'tool' && !seen.has(m.tool_call_id)) orphans.push(m.tool_call_id);
    if (m.role !== 'assistant') return;
    for (const c of m.tool_calls ?? []) {
      calls++;
      seen.add(c.id);
      const next = messages.slice(i + 1).findIndex((x) => x.role !== 'tool');
      const block = messages.slice(i + 1, next === -1 ? undefined : i + 1 + next);
      if (!block.some((x) => x.role === 'tool' && x.tool_call_id === c.id)) unanswered.push(c.id);
    }
  });
  return { calls, unanswered, orphans };
}

test(
  'real format files: each is detected as its format; runs, turns, tool calls with results, scores with their runs; no valid line quarantined',
  { skip },
  async () => {
    const { records, health, quarantine } = await build();
    for (const f of health.files) {
      const folder = String(f.file).split('/')[2];
      assert.equal(f.adapter, folder, `${String(f.file)} detected as ${String(f.adapter)}`);
    }
    // the only documented drop: LiteLLM's SpendLogs payload recorded without prompts (messages "{}")
    assert.deepEqual(
      quarantine.map((q) => [
        String(q.source_file ?? (q.provenance as { source_file?: string })?.source_file ?? ''),
        q.reason,
      ]),
      [['data/in/litellm/spend_logs_payload.jsonl', 'NO_CONVERSATION']],
      JSON.stringify(quarantine.map((q) => q.detail)),
    );
    const runs = records.filter((r) => r.kind === 'run');
    const byFile = (name: string): Rec[] => runs.filter((r) => r.provenance.source_file.endsWith(name));
    // every run: a user turn, a model turn, every call answered (a final structured-output call needs none)
    for (const r of runs) {
      const m = r.run?.messages ?? [];
      assert.ok(
        m.some((x) => x.role === 'user'),
        `${r.trace_id}: a user turn`,
      );
      assert.ok(
        m.some((x) => x.role === 'assistant'),
        `${r.trace_id}: a model turn`,
      );
      const p = pairing(m);
      assert.deepEqual(p.orphans, [], `${r.trace_id}: tool results without their call`);
      const last = m.at(-1);
      const finalCalls = last?.role === 'assistant' ? (last.tool_calls ?? []).map((c) => c.id) : [];
      assert.deepEqual(
        p.unanswered.filter((id) => !finalCalls.includes(id)),
        [],
        `${r.trace_id}: calls without results`,
      );
      // no JSON of a framework's request / response left as the text of a turn
      for (const x of m)
        if (x.role !== 'tool' && typeof x.content === 'string')
          assert.doesNotMatch(
            x.content.trim(),
            /^\{"(contents|candidates|output|messages|role)"/,
            `${r.trace_id}`,
          );
    }
    // Claude Code: parallel calls whose results hang off their own tool_use lines keep both results
    const spotter = byFile('spotter-short.jsonl');
    assert.equal(spotter.length, 1);
    assert.deepEqual(pairing(spotter[0]?.run?.messages ?? []).calls, 2);
    assert.equal(
      spotter[0]?.run?.messages.filter((m) => m.role === 'assistant').length,
      1,
      'one API response, one turn',
    );
    assert.equal(byFile('claude-reliability-hello-world-script.jsonl')[0]?.run?.messages.length, 8);
    assert.equal(byFile('06090cb1-3e64-433a-bc7e-a621c0f596d2.jsonl').length, 1);
    // Codex: 118 parallel exec_command calls, each with its output
    const rollout = runs.filter((r) => r.provenance.source_file.includes('/codex/rollout-'));
    assert.equal(pairing(rollout[0]?.run?.messages ?? []).calls, 118);
    // Langfuse: the OpenAI Agents SDK's Responses items and pydantic-ai's OTel parts are decoded
    const agents = byFile('openai-agents-2025-09-30.jsonl')[0];
    assert.deepEqual(
      agents?.run?.messages.map((m) => m.role),
      ['system', 'user', 'assistant', 'tool', 'assistant'],
    );
    const pyd = byFile('pydantic-ai-tools-2025-12-04.jsonl')[0];
    assert.equal(pairing(pyd?.run?.messages ?? []).calls, 3);
    assert.ok((pyd?.run?.tools.length ?? 0) >= 3, 'pydantic-ai declares its function tools');
    // every score is a signal of a run of the file
    const signals = records.filter((r) => r.kind === 'signal');
    assert.ok(signals.length >= 2);
    for (const s of signals)
      assert.ok(
        runs.some((r) => r.trace_id === s.trace_id),
        `score of ${s.trace_id} has its run`,
      );
    assert.equal(byFile('langsmith-sdk-py-wrap-openai.jsonl').length, 4);
    assert.equal(byFile('standard_logging_payload.jsonl').length, 1);
  },
);
