import type { ChatMessage, RoleRepair, ToolDef } from '../../../schemas/chat.ts';
import { KtoSample, SCHEMA_VERSION as KTO_V } from '../../../schemas/kto-sample.ts';
import { PreferenceSample, SCHEMA_VERSION as PREF_V } from '../../../schemas/preference-sample.ts';
import type { Provenance } from '../../../schemas/provenance.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import { prepareConversation, withCorrection } from '../../lib/export/conversation.ts';
import type { JudgmentEvidence } from '../../lib/export/inputs.ts';
import { hasText } from '../../lib/export/messages.ts';
import { sortById, type ExportDrop } from '../../lib/export/output.ts';
import { firstModelTurn, toSubstance } from '../../lib/export/substance.ts';
import { declaredTools } from '../../lib/export/tools.ts';
import { canonicalJson, contentId } from '../../lib/hash.ts';
import { splitGroup, splitOf } from '../../lib/export/split.ts';
import type { PairRefusal, Reason as ExportPreferenceReason } from './contract.ts';
import { conversationKey, openingKey, splitPair } from '../../lib/export/pairs.ts';

/**
 * The pure core of export-preference: which runs can be pair sides, how attempts of one task are
 * grouped and paired (deterministically, up to a cap), and what is left for KTO or quarantine.
 * Every pair, whatever its source, is built by `splitPair` (pairs.ts): a shared prompt and the
 * rest of each own conversation.
 */

/** One side of a candidate pair: a whole conversation (role-repaired, cut to its substance). */
export interface PairSide {
  id: string;
  messages: ChatMessage[];
  provenance: Provenance;
  /** Tools the source offered in this conversation. */
  tools: readonly ToolDef[];
  repairs: RoleRepair[];
}

/** Everything a pair needs; `pairOrDrop` checks it and builds the PreferenceSample. */
export interface PairInput {
  pair_type: PreferenceSample['pair_type'];
  task_key: string | null;
  chosen: PairSide;
  rejected: PairSide;
  /** A judgment's two sides come from one source row; anything else from two different rows. */
  sameSourceRow: boolean;
}

type PairOutcome =
  | { type: 'keep'; pair: PreferenceSample }
  | { type: 'drop'; reason: 'SELF_PAIR' | PairRefusal; detail: string; id: string };

const sameRow = (a: Provenance, b: Provenance): boolean =>
  a.source_file === b.source_file && a.line_offset === b.line_offset && a.sig_hash === b.sig_hash;

/** Source tools of both sides, chosen's first, each name once. */
function unionTools(a: readonly ToolDef[], b: readonly ToolDef[]): ToolDef[] {
  const seen = new Set(a.map((t) => t.function.name));
  return [...a, ...b.filter((t) => !seen.has(t.function.name))];
}

/**
 * Builds a pair, or refuses a self-pair (same id, or both sides from one source row) or two
 * conversations that are not a pair (`splitPair`: no shared prompt, parted by input, no
 * divergence, only pleasantries, identical).
 */
export function pairOrDrop(p: PairInput, testFraction: number): PairOutcome {
  // the two side ids name a candidate: every side id stands for one conversation
  const candidateId = contentId('pref', p.pair_type, p.chosen.id, p.rejected.id);
  if (p.chosen.id === p.rejected.id)
    return {
      type: 'drop',
      reason: 'SELF_PAIR',
      detail: `chosen and rejected are both ${p.chosen.id}`,
      id: candidateId,
    };
  if (!p.sameSourceRow && sameRow(p.chosen.provenance, p.rejected.provenance)) {
    return {
      type: 'drop',
      reason: 'SELF_PAIR',
      detail: `${p.chosen.id} and ${p.rejected.id} come from the same source row ${p.chosen.provenance.source_file}:${p.chosen.provenance.line_offset}`,
      id: candidateId,
    };
  }
  const split = splitPair(p.chosen.messages, p.rejected.messages);
  if (split.type === 'drop') return { ...split, id: candidateId };
  const { prompt, chosen, rejected } = split;
  const { tools, derived } = declaredTools(unionTools(p.chosen.tools, p.rejected.tools), [
    prompt,
    chosen,
    rejected,
  ]);
  const id = contentId(
    'pref',
    p.pair_type,
    p.chosen.id,
    p.rejected.id,
    canonicalJson(prompt),
    canonicalJson(chosen),
    canonicalJson(rejected),
  );
  const pair = PreferenceSample.parse({
    schema_version: PREF_V,
    id,
    pair_type: p.pair_type,
    task_key: p.task_key,
    prompt,
    ...(tools.length > 0 ? { tools } : {}),
    derived_tools: derived,
    chosen,
    rejected,
    chosen_id: p.chosen.id,
    rejected_id: p.rejected.id,
    chosen_provenance: p.chosen.provenance,
    rejected_provenance: p.rejected.provenance,
    repairs: { chosen: p.chosen.repairs, rejected: p.rejected.repairs },
    split: splitOf(splitGroup(p.task_key, id), testFraction),
  });
  return { type: 'keep', pair };
}

/**
 * A run usable as one side or a KTO row: its conversation (reasoning out, roles repaired, cut
 * after its last substantive assistant turn), the opening a partner must share, and its KTO split
 * (prompt = up to the model's first turn, completion = the rest).
 */
export interface Usable {
  run: ScoredRun;
  messages: ChatMessage[];
  repairs: RoleRepair[];
  opening: string;
  /** `conversationKey` of the messages: equal keys are the same conversation. */
  key: string;
  prompt: ChatMessage[];
  completion: ChatMessage[];
}

type UsableOutcome =
  { type: 'keep'; usable: Usable } | { type: 'drop'; reason: ExportPreferenceReason; detail: string };

/** Whether a run can be one side of a pair or a KTO row. */
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
  const prepared = prepareConversation(run.run.messages);
  if (prepared.type === 'drop') return drop(prepared.reason, prepared.detail);
  const messages = toSubstance(prepared.messages);
  const first = firstModelTurn(messages);
  if (!prepared.messages.some((m) => m.role === 'user') || (messages.length > 0 && first < 0))
    return drop('NO_USER_TURN', 'no user turn before the model works: there is no prompt');
  if (messages.length === 0)
    return drop(
      'NO_SUBSTANCE',
      'no assistant turn does work (each is empty or only a pleasantry): nothing to prefer or label',
    );
  return {
    type: 'keep',
    usable: {
      run,
      messages,
      repairs: prepared.repairs,
      opening: openingKey(messages) as string,
      key: conversationKey(messages),
      prompt: messages.slice(0, first),
      completion: messages.slice(first),
    },
  };
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
  /** Candidate pairs refused (SELF_PAIR, or not a pair by `splitPair`) although both runs were usable; quarantined with the pair id as record_id. */
  candidates_skipped: number;
  /**
   * Runs of a task with both outcomes whose opening (system and task, up to the model's first
   * turn) no run of the other outcome shares: no candidate at all (e.g. tau-bench, whose
   * simulated user words the task differently in every trial). They become KTO rows.
   */
  runs_no_shared_opening: number;
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
    runs_no_shared_opening: 0,
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

/** A usable run as a pair side. */
function sideOf(u: Usable): PairSide {
  return {
    id: u.run.run_id,
    messages: u.messages,
    provenance: u.run.provenance,
    tools: u.run.run.tools,
    repairs: u.repairs,
  };
}

/**
 * Step 1, per run: a drop, a correction pair (or the drop of its candidate), or an outcome side
 * for step 2 (returned as its Usable; nothing emitted). A correction pair is the run against the
 * same run with the correction as its answer: they share everything before its last substantive
 * turn.
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
  const corrected = withCorrection(u.usable.messages, correction) as ChatMessage[];
  const own = { messages: corrected, tools: run.run.tools, repairs: u.usable.repairs };
  // the correction's own row is the review signal; without one it is known only from the run row
  const chosen: PairSide = edit
    ? { id: edit.evidence_id, provenance: edit.provenance, ...own }
    : { id: `${run.run_id}#correction`, provenance: run.provenance, ...own };
  const out = pairOrDrop(
    {
      pair_type: 'correction',
      task_key: run.task_key,
      chosen,
      rejected: sideOf(u.usable),
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

/** The runs of a list grouped by opening, groups in key order, runs in list order. */
function byOpening(list: readonly Usable[]): Map<string, Usable[]> {
  const m = new Map<string, Usable[]>();
  for (const u of list) {
    const g = m.get(u.opening);
    if (g) g.push(u);
    else m.set(u.opening, [u]);
  }
  return new Map([...m.keys()].sort().map((k) => [k, m.get(k) as Usable[]]));
}

/**
 * Step 2, per task group (sides sorted by run_id): outcome pairs up to the cap, then KTO rows.
 * Only runs with the same opening can share a prompt through the first user turn, so candidates
 * are formed within each opening (openings in key order; the cap counts over the whole task).
 */
export function mineGroup(group: readonly Usable[], opts: Opts, stats: PreferenceStats): MinedRows {
  const rows = mined();
  const acc = group.filter((u) => u.run.category === 'accepted');
  const rej = group.filter((u) => u.run.category === 'rejected');
  // The same conversation both accepted and rejected says nothing about quality: neither run may
  // become a pair side or a KTO row (they would teach opposite labels for one example).
  const exampleKey = (u: Usable): string => u.key;
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
          `same conversation as ${otherLabel} run ${twin} of the same task: contradicting outcomes`,
          twin,
        ),
      );
    }
    return out;
  };
  const a = keep(acc, rejExamples, 'rejected');
  const r = keep(rej, accExamples, 'accepted');
  const accBy = byOpening(a);
  const rejBy = byOpening(r);
  if (a.length > 0 && r.length > 0)
    for (const [k, list] of [...accBy, ...rejBy])
      if (!(accBy.has(k) && rejBy.has(k))) stats.runs_no_shared_opening += list.length;
  const used = new Set<string>();
  let emitted = 0;
  for (const [k, ga] of accBy) {
    const gr = rejBy.get(k);
    if (!gr) continue;
    let taken = 0;
    for (const [i, j] of pairOrder(ga.length, gr.length)) {
      if (emitted >= opts.cap) break;
      taken++;
      const c = ga[i] as Usable;
      const x = gr[j] as Usable;
      const out = pairOrDrop(
        {
          pair_type: 'outcome',
          task_key: c.run.task_key,
          chosen: sideOf(c),
          rejected: sideOf(x),
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
    stats.pairs_capped += ga.length * gr.length - taken; // candidates not taken once the cap was reached
  }
  for (const u of [...a, ...r]) {
    if (used.has(u.run.run_id)) {
      stats.runs_paired++;
      continue;
    }
    // no partner (or past the cap): an unpaired KTO row, desirable iff accepted
    const label = u.run.category === 'accepted';
    const { tools, derived } = declaredTools(u.run.run.tools, [u.prompt, u.completion]);
    stats.runs_kto++;
    rows.kto.push(
      KtoSample.parse({
        schema_version: KTO_V,
        id: contentId(
          'kto',
          u.run.run_id,
          String(label),
          canonicalJson(u.prompt),
          canonicalJson(u.completion),
        ),
        run_id: u.run.run_id,
        task_key: u.run.task_key,
        prompt: u.prompt,
        ...(tools.length > 0 ? { tools } : {}),
        derived_tools: derived,
        completion: u.completion,
        repairs: u.repairs,
        label,
        split: splitOf(splitGroup(u.run.task_key, u.run.run_id), opts.testFraction),
        provenance: u.run.provenance,
      }),
    );
  }
  return rows;
}

/**
 * Step 3, per imported judgment: a judgment pair, or a drop. The judged prompt plus either answer
 * are the two conversations (roles repaired like any run's); the pair is what they share and the
 * two answers.
 */
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
  const sides: PairSide[] = [];
  for (const s of ['chosen', 'rejected'] as const) {
    const conv = prepareConversation([...j.judgment.prompt, { role: 'assistant', content: j.judgment[s] }]);
    if (conv.type === 'drop') return dropJ(conv.reason, conv.detail);
    sides.push({
      id: `${j.evidence_id}#${s}`,
      messages: conv.messages,
      provenance: j.provenance,
      tools: [],
      repairs: conv.repairs,
    });
  }
  const out = pairOrDrop(
    {
      pair_type: 'judgment',
      task_key: j.task_key,
      chosen: sides[0] as PairSide,
      rejected: sides[1] as PairSide,
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
