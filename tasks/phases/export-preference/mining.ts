import type { ChatMessage, ToolDef } from '../../../schemas/chat.ts';
import type { Reason as ExportPreferenceReason } from './contract.ts';
import { KtoSample, SCHEMA_VERSION as KTO_V } from '../../../schemas/kto-sample.ts';
import { PreferenceSample, SCHEMA_VERSION as PREF_V } from '../../../schemas/preference-sample.ts';
import type { Provenance } from '../../../schemas/provenance.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import type { JudgmentEvidence } from '../../lib/export/inputs.ts';
import {
  finalAnswer,
  hasText,
  invalidToolArgs,
  normaliseForCompare,
  orphanToolResult,
  withoutReasoning,
} from '../../lib/export/messages.ts';
import { sortById, type ExportDrop } from '../../lib/export/output.ts';
import { canonicalJson, contentId } from '../../lib/hash.ts';
import { splitGroup, splitOf } from '../../lib/export/split.ts';

/**
 * The pure core of export-preference: which runs can be pair sides, how attempts of one task are
 * grouped and paired (deterministically, up to a cap), and what is left for KTO or quarantine.
 */

/** One side of a candidate pair. */
export interface PairSide {
  id: string;
  text: string;
  provenance: Provenance;
}

/** Everything a pair needs; `pairOrDrop` checks it and builds the PreferenceSample. */
export interface PairInput {
  pair_type: PreferenceSample['pair_type'];
  task_key: string | null;
  prompt: ChatMessage[];
  tools: readonly ToolDef[];
  chosen: PairSide;
  rejected: PairSide;
  /** A judgment's two sides come from one source row; anything else from two different rows. */
  sameSourceRow: boolean;
}

type PairOutcome =
  | { type: 'keep'; pair: PreferenceSample }
  | { type: 'drop'; reason: 'SELF_PAIR' | 'IDENTICAL_TEXT'; detail: string; id: string };

const sameRow = (a: Provenance, b: Provenance): boolean =>
  a.source_file === b.source_file && a.line_offset === b.line_offset && a.sig_hash === b.sig_hash;

/** Builds a pair, or refuses a self-pair (same id, or both sides from one source row) or identical texts. */
export function pairOrDrop(p: PairInput, testFraction: number): PairOutcome {
  const id = contentId(
    'pref',
    p.pair_type,
    p.chosen.id,
    p.rejected.id,
    canonicalJson(p.prompt),
    p.chosen.text,
    p.rejected.text,
  );
  if (p.chosen.id === p.rejected.id)
    return { type: 'drop', reason: 'SELF_PAIR', detail: `chosen and rejected are both ${p.chosen.id}`, id };
  if (!p.sameSourceRow && sameRow(p.chosen.provenance, p.rejected.provenance)) {
    return {
      type: 'drop',
      reason: 'SELF_PAIR',
      detail: `${p.chosen.id} and ${p.rejected.id} come from the same source row ${p.chosen.provenance.source_file}:${p.chosen.provenance.line_offset}`,
      id,
    };
  }
  if (normaliseForCompare(p.chosen.text) === normaliseForCompare(p.rejected.text)) {
    return {
      type: 'drop',
      reason: 'IDENTICAL_TEXT',
      detail: `chosen (${p.chosen.id}) and rejected (${p.rejected.id}) texts are identical up to whitespace`,
      id,
    };
  }
  const pair = PreferenceSample.parse({
    schema_version: PREF_V,
    id,
    pair_type: p.pair_type,
    task_key: p.task_key,
    prompt: p.prompt,
    ...(p.tools.length > 0 ? { tools: p.tools } : {}),
    chosen: { role: 'assistant', content: p.chosen.text },
    rejected: { role: 'assistant', content: p.rejected.text },
    chosen_id: p.chosen.id,
    rejected_id: p.rejected.id,
    chosen_provenance: p.chosen.provenance,
    rejected_provenance: p.rejected.provenance,
    split: splitOf(splitGroup(p.task_key, id), testFraction),
  });
  return { type: 'keep', pair };
}

/** A run usable as one side: its prompt (messages before its final text) and final text. */
export interface Usable {
  run: ScoredRun;
  prompt: ChatMessage[];
  text: string;
}

type UsableOutcome =
  { type: 'keep'; usable: Usable } | { type: 'drop'; reason: ExportPreferenceReason; detail: string };

/** Whether a run can be one side of a pair or a KTO row, and its prompt / final text. */
export function usableRun(run: ScoredRun): UsableOutcome {
  const drop = (reason: ExportPreferenceReason, detail: string): UsableOutcome => ({
    type: 'drop',
    reason,
    detail,
  });
  if (run.category === 'needs_human_review')
    return drop('CATEGORY_EXCLUDED', 'needs_human_review runs have no trusted outcome to prefer or reject');
  if (run.category === 'partially_accepted' && !hasText(run.correction))
    return drop(
      'CATEGORY_EXCLUDED',
      'partially accepted without a human correction: neither clearly chosen nor rejected',
    );
  const final = finalAnswer(run.run.messages);
  if (!final) return drop('NO_FINAL_TEXT', 'no assistant turn with text to use as a completion');
  const prompt = run.run.messages.slice(0, final.index).map(withoutReasoning);
  if (!prompt.some((m) => m.role === 'user'))
    return drop('NO_USER_TURN', 'no user turn before the final answer: there is no prompt');
  const bad = invalidToolArgs(prompt);
  if (bad) return drop('TOOL_ARGS_INVALID', bad);
  const orphan = orphanToolResult(prompt);
  if (orphan) return drop('TOOL_RESULT_ORPHAN', orphan);
  return { type: 'keep', usable: { run, prompt, text: final.text } };
}

/**
 * The order candidate pairs of one task are taken in, over accepted `a` and rejected `r` (each
 * sorted by run_id): first the zip (a[i mod |a|], r[i mod |r|]) for i < max(|a|, |r|), so every run
 * is used once before any pairing repeats, then every remaining (i, j) in lexicographic order.
 * Lazy, and without a set of the pairs already given: a task's |a| × |r| candidates grow with the
 * square of its runs (43,350 for one task of the 1M-row bench corpus, 540 at 100k), while mining
 * stops at the cap. The zip holds exactly the pairs (i, i mod |r|) when |a| ≥ |r|, else
 * (j mod |a|, j), so "already given" is a comparison.
 */
export function* pairOrder(na: number, nr: number): Generator<[number, number]> {
  if (na === 0 || nr === 0) return;
  const zip = Math.max(na, nr);
  for (let k = 0; k < zip; k++) yield [k % na, k % nr];
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nr; j++) {
      if (na >= nr ? j === i % nr : i === j % na) continue; // in the zip
      yield [i, j];
    }
  }
}

/**
 * Which runs attempt one task: same task_key, or linked by `escalated_from` to another outcome
 * side (union-find). `add` every side first, then `link`; a group's root is its lowest run_id, so
 * groups do not depend on the order of `add`.
 */
export class TaskUnion {
  private readonly parent = new Map<string, string>();
  private readonly edges: { id: string; task: string | null; from: string | null }[] = [];

  add(id: string, task: string | null, from: string | null): void {
    this.parent.set(id, id);
    this.edges.push({ id, task, from });
  }

  /** The root (lowest run_id) of a run's group. */
  root(x: string): string {
    let r = x;
    while (this.parent.get(r) !== r) r = this.parent.get(r) as string;
    this.parent.set(x, r);
    return r;
  }

  private union(a: string, b: string): void {
    const [ra, rb] = [this.root(a), this.root(b)];
    if (ra !== rb) this.parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }

  /** Joins the runs of each task_key and each escalation. */
  link(): void {
    const byTask = new Map<string, string>();
    for (const e of this.edges) {
      if (e.task !== null) {
        const first = byTask.get(e.task);
        if (first === undefined) byTask.set(e.task, e.id);
        else this.union(first, e.id);
      }
      if (e.from !== null && this.parent.has(e.from)) this.union(e.from, e.id);
    }
    this.edges.length = 0;
  }
}

/** Groups runs that attempt one task (see TaskUnion), in root order, each in input order. */
function taskGroups(usable: readonly Usable[]): Usable[][] {
  const tu = new TaskUnion();
  for (const u of usable) tu.add(u.run.run_id, u.run.task_key, u.run.run.escalated_from);
  tu.link();
  const groups = new Map<string, Usable[]>();
  for (const u of usable) {
    const root = tu.root(u.run.run_id);
    const g = groups.get(root);
    if (g) g.push(u);
    else groups.set(root, [u]);
  }
  return [...groups.keys()].sort().map((k) => groups.get(k) as Usable[]);
}

/** Counts of one mining: every run is paired, a KTO row or quarantined; every judgment paired or quarantined. */
export interface PreferenceStats {
  runs_in: number;
  judgments_in: number;
  runs_paired: number;
  runs_kto: number;
  runs_quarantined: number;
  judgments_paired: number;
  judgments_quarantined: number;
  /** Candidate pairs refused (SELF_PAIR, IDENTICAL_TEXT) although both runs were usable; quarantined with the pair id as record_id. */
  candidates_skipped: number;
  pairs_outcome: number;
  pairs_correction: number;
  pairs_judgment: number;
  /** Candidate pairs not taken because the task reached preference_cap_per_task. */
  pairs_capped: number;
}

/** What mining produced. */
export interface PreferenceMining {
  pairs: PreferenceSample[];
  kto: KtoSample[];
  drops: ExportDrop[];
  stats: PreferenceStats;
}

/** The zeroed stats of a mining. */
export function emptyStats(runsIn: number, judgmentsIn: number): PreferenceStats {
  return {
    runs_in: runsIn,
    judgments_in: judgmentsIn,
    runs_paired: 0,
    runs_kto: 0,
    runs_quarantined: 0,
    judgments_paired: 0,
    judgments_quarantined: 0,
    candidates_skipped: 0,
    pairs_outcome: 0,
    pairs_correction: 0,
    pairs_judgment: 0,
    pairs_capped: 0,
  };
}

/** Rows mined by one step (the in-memory core collects them; the phase sorts them on disk). */
export interface MinedRows {
  pairs: PreferenceSample[];
  kto: KtoSample[];
  drops: ExportDrop[];
}

const mined = (): MinedRows => ({ pairs: [], kto: [], drops: [] });

type Opts = { cap: number; testFraction: number };

function runDrop(run: ScoredRun, reason: string, detail: string, ref: string | null = null): ExportDrop {
  return { reason, detail, provenance: run.provenance, record: run.run_id, trace: run.run_id, ref };
}

function emitPair(p: PreferenceSample, stats: PreferenceStats, out: MinedRows): void {
  out.pairs.push(p);
  stats[`pairs_${p.pair_type}`]++;
}

/**
 * Step 1, per run: a drop, a correction pair (or the drop of its candidate), or an outcome side
 * for step 2 (returned as its Usable; nothing emitted).
 */
export function mineRun(
  run: ScoredRun,
  opts: Opts,
  stats: PreferenceStats,
): { side: Usable | null; rows: MinedRows } {
  const rows = mined();
  const u = usableRun(run);
  if (u.type === 'drop') {
    stats.runs_quarantined++;
    rows.drops.push(runDrop(run, u.reason, u.detail));
    return { side: null, rows };
  }
  if (run.category !== 'partially_accepted') return { side: u.usable, rows };
  const correction = run.correction as string;
  const edit = run.signals.find(
    (s) =>
      s.signal.type === 'human_review' &&
      s.signal.verdict === 'edit' &&
      s.signal.corrected_answer === correction,
  );
  // the correction's own row is the review signal; without one it is known only from the run row
  const chosen: PairSide = edit
    ? { id: edit.evidence_id, text: correction, provenance: edit.provenance }
    : { id: `${run.run_id}#correction`, text: correction, provenance: run.provenance };
  const out = pairOrDrop(
    {
      pair_type: 'correction',
      task_key: run.task_key,
      prompt: u.usable.prompt,
      tools: run.run.tools,
      chosen,
      rejected: { id: run.run_id, text: u.usable.text, provenance: run.provenance },
      sameSourceRow: !edit,
    },
    opts.testFraction,
  );
  if (out.type === 'keep') {
    emitPair(out.pair, stats, rows);
    stats.runs_paired++;
  } else {
    stats.runs_quarantined++;
    rows.drops.push(runDrop(run, out.reason, out.detail, chosen.id));
  }
  return { side: null, rows };
}

/** The outcome sides of a task group, again, from its runs (sorted by run_id). */
export function sidesOf(runs: readonly ScoredRun[]): Usable[] {
  return runs.map((r) => {
    const u = usableRun(r);
    if (u.type === 'drop') throw new Error(`run ${r.run_id} was an outcome side and is not usable now`);
    return u.usable;
  });
}

/** Step 2, per task group (sides sorted by run_id): outcome pairs up to the cap, then KTO rows. */
export function mineGroup(group: readonly Usable[], opts: Opts, stats: PreferenceStats): MinedRows {
  const rows = mined();
  const acc = group.filter((u) => u.run.category === 'accepted');
  const rej = group.filter((u) => u.run.category === 'rejected');
  // The same prompt and answer both accepted and rejected says nothing about quality: neither run
  // may become a pair side or a KTO row (they would teach opposite labels for one example).
  // Same answer after different trajectories is fine: only that candidate pair is skipped below.
  const exampleKey = (u: Usable): string => `${canonicalJson(u.prompt)}\u0000${normaliseForCompare(u.text)}`;
  const firstWith = (list: Usable[]): Map<string, string> => {
    const m = new Map<string, string>();
    for (const u of list) if (!m.has(exampleKey(u))) m.set(exampleKey(u), u.run.run_id);
    return m;
  };
  const accExamples = firstWith(acc);
  const rejExamples = firstWith(rej);
  const keep = (list: Usable[], other: Map<string, string>, otherLabel: string): Usable[] => {
    const out: Usable[] = [];
    for (const u of list) {
      const twin = other.get(exampleKey(u));
      if (twin === undefined) {
        out.push(u);
        continue;
      }
      stats.runs_quarantined++;
      rows.drops.push(
        runDrop(
          u.run,
          'IDENTICAL_TEXT',
          `same prompt and final answer as ${otherLabel} run ${twin} of the same task: contradicting outcomes`,
          twin,
        ),
      );
    }
    return out;
  };
  const a = keep(acc, rejExamples, 'rejected');
  const r = keep(rej, accExamples, 'accepted');
  const used = new Set<string>();
  let emitted = 0;
  let taken = 0;
  for (const [i, j] of pairOrder(a.length, r.length)) {
    if (emitted >= opts.cap) {
      stats.pairs_capped += a.length * r.length - taken; // this candidate and every one after it
      break;
    }
    taken++;
    const c = a[i] as Usable;
    const x = r[j] as Usable;
    const out = pairOrDrop(
      {
        pair_type: 'outcome',
        task_key: c.run.task_key,
        prompt: c.prompt,
        tools: c.run.run.tools,
        chosen: { id: c.run.run_id, text: c.text, provenance: c.run.provenance },
        rejected: { id: x.run.run_id, text: x.text, provenance: x.run.provenance },
        sameSourceRow: false,
      },
      opts.testFraction,
    );
    if (out.type === 'drop') {
      stats.candidates_skipped++;
      rows.drops.push({
        reason: out.reason,
        detail: out.detail,
        provenance: x.run.provenance,
        record: out.id,
        trace: x.run.run_id,
        ref: c.run.run_id,
        candidate: true,
      });
      continue;
    }
    emitPair(out.pair, stats, rows);
    emitted++;
    used.add(c.run.run_id).add(x.run.run_id);
  }
  for (const u of [...a, ...r]) {
    if (used.has(u.run.run_id)) {
      stats.runs_paired++;
      continue;
    }
    // no partner (or past the cap): an unpaired KTO row, desirable iff accepted
    const label = u.run.category === 'accepted';
    stats.runs_kto++;
    rows.kto.push(
      KtoSample.parse({
        schema_version: KTO_V,
        id: contentId('kto', u.run.run_id, String(label), canonicalJson(u.prompt), u.text),
        run_id: u.run.run_id,
        task_key: u.run.task_key,
        prompt: u.prompt,
        ...(u.run.run.tools.length > 0 ? { tools: u.run.run.tools } : {}),
        completion: { role: 'assistant', content: u.text },
        label,
        split: splitOf(splitGroup(u.run.task_key, u.run.run_id), opts.testFraction),
        provenance: u.run.provenance,
      }),
    );
  }
  return rows;
}

/** Step 3, per imported judgment: a judgment pair, or a drop. */
export function mineJudgment(j: JudgmentEvidence, opts: Opts, stats: PreferenceStats): MinedRows {
  const rows = mined();
  const dropJ = (reason: string, detail: string): MinedRows => {
    stats.judgments_quarantined++;
    rows.drops.push({
      reason,
      detail,
      provenance: j.provenance,
      record: j.evidence_id,
      trace: null,
      ref: null,
    });
    return rows;
  };
  const prompt = j.judgment.prompt.map(withoutReasoning);
  const bad = invalidToolArgs(prompt) ?? orphanToolResult(prompt);
  if (bad) return dropJ(invalidToolArgs(prompt) ? 'TOOL_ARGS_INVALID' : 'TOOL_RESULT_ORPHAN', bad);
  const side = (s: 'chosen' | 'rejected'): PairSide => ({
    id: `${j.evidence_id}#${s}`,
    text: j.judgment[s],
    provenance: j.provenance,
  });
  const out = pairOrDrop(
    {
      pair_type: 'judgment',
      task_key: j.task_key,
      prompt,
      tools: [],
      chosen: side('chosen'),
      rejected: side('rejected'),
      sameSourceRow: true,
    },
    opts.testFraction,
  );
  if (out.type !== 'keep') return dropJ(out.reason, out.detail);
  emitPair(out.pair, stats, rows);
  stats.judgments_paired++;
  return rows;
}

/** Throws unless every run was paired, a KTO row or quarantined. */
export function checkAccounting(stats: PreferenceStats): void {
  if (stats.runs_in !== stats.runs_paired + stats.runs_kto + stats.runs_quarantined) {
    throw new Error(
      `accounting broke: ${stats.runs_in} runs ≠ ${stats.runs_paired} paired + ${stats.runs_kto} KTO + ${stats.runs_quarantined} quarantined`,
    );
  }
}

/**
 * Pure core: scored runs and imported judgments → preference pairs (outcome, correction,
 * judgment), unpaired KTO rows and drops. Deterministic whatever the input order. (The phase runs
 * the same three steps streaming, with task groups formed through an external sort.)
 */
export function minePreferences(
  runsIn: readonly ScoredRun[],
  judgmentsIn: readonly JudgmentEvidence[],
  opts: Opts,
): PreferenceMining {
  const runs = [...runsIn].sort((a, b) => (a.run_id < b.run_id ? -1 : 1));
  const judgments = [...judgmentsIn].sort((a, b) => (a.evidence_id < b.evidence_id ? -1 : 1));
  const all = mined();
  const take = (rows: MinedRows): void => {
    all.pairs.push(...rows.pairs);
    all.kto.push(...rows.kto);
    all.drops.push(...rows.drops);
  };
  const stats = emptyStats(runs.length, judgments.length);
  const outcomeSides: Usable[] = [];
  for (const run of runs) {
    const { side, rows } = mineRun(run, opts, stats);
    take(rows);
    if (side) outcomeSides.push(side);
  }
  for (const group of taskGroups(outcomeSides)) take(mineGroup(group, opts, stats));
  for (const j of judgments) take(mineJudgment(j, opts, stats));
  checkAccounting(stats);
  return { pairs: sortById(all.pairs), kto: sortById(all.kto), drops: all.drops, stats };
}
