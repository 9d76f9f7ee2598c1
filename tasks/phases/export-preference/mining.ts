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
import { canonicalJson, contentId, sha256 } from '../../lib/hash.ts';
import { shardOfRecordedAt } from '../../lib/export/shards.ts';
import { splitGroup, splitOf } from '../../lib/export/split.ts';
import type { PairRefusal, Reason as ExportPreferenceReason } from './contract.ts';
import { conversationKey, openingKey, splitPair } from '../../lib/export/pairs.ts';

/**
 * The pure core of export-preference: which runs can be pair sides, how attempts of one task are
 * grouped and paired (in time order: each run against the earlier ones, up to a cap), and what is
 * left for KTO or quarantine.
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

/** Counts of one mining: every run is paired, a KTO row or quarantined; every judgment paired or quarantined. */
export interface PreferenceStats {
  runs_in: number;
  judgments_in: number;
  /** Runs that formed a pair when they arrived (outcome), or a correction pair. Each run is counted once, by its fate when it arrived. */
  runs_paired: number;
  /** Runs that formed no pair when they arrived: KTO rows (a later run may still pair with them). */
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
  /** Candidates of an arriving run not tried because its task was at preference_cap_per_task. */
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

/**
 * Where a run stands in time order (docs/exports.md, "Preference"): the day it is filed under (its
 * shard: the day of its recorded_at, `undated` last), then its recorded_at, then its run_id.
 */
export function timeOrderKey(shard: string, recordedAt: string | null, runId: string): string {
  return `${shard}\u0000${recordedAt ?? ''}\u0000${runId}`;
}

/** What later runs need to know of an outcome side: what groups it, its outcome, its opening and conversation (hashed). */
export interface SideFact {
  id: string;
  task: string | null;
  from: string | null;
  accepted: boolean;
  /** A hash of its opening (`openingKey`): only runs with the same opening can share a prompt. */
  opening: string;
  /** A hash of its conversation (`conversationKey`): equal keys are the same conversation. */
  key: string;
}

const hashKey = (s: string): string => sha256(s).slice(0, 32);

/** The fact of a usable outcome side. */
export function factOf(u: Usable): SideFact {
  return {
    id: u.run.run_id,
    task: u.run.task_key,
    from: u.run.run.escalated_from,
    accepted: u.run.category === 'accepted',
    opening: hashKey(u.opening),
    key: hashKey(u.key),
  };
}

/** A growable Int32Array (the per-side columns of `PairBook`). */
class Int32Column {
  a = new Int32Array(1024);
  ensure(n: number): void {
    if (n <= this.a.length) return;
    let len = this.a.length;
    while (len < n) len *= 2;
    const b = new Int32Array(len);
    b.set(this.a);
    this.a = b;
  }
}

/** The 32 hex digits of a `hashKey` as four 32-bit words. */
function hexWords(hex: string, into: Int32Array, at: number): void {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a 32-digit hash key: ${hex}`);
  for (let w = 0; w < 4; w++) into[at + w] = parseInt(hex.slice(w * 8, w * 8 + 8), 16) | 0;
}

/** Settled state of a side: not yet decided, a possible partner, or quarantined as a contradiction. */
const OPEN = 0;
const PARTNER = 1;
const QUARANTINED = 2;

/**
 * The outcome sides seen so far, in time order, grouped into task groups as they stand (runs of one
 * task_key, and a run joined to the run it `escalated_from`; a run that links two groups joins them
 * from then on, their pair counts added), with what the pairing of a later run needs: each side's
 * pair count, each group's pair count, and which sides can still be partners. A build replays the
 * decisions its state keeps for the days it does not decide again (`replay`), then decides the
 * later runs one at a time (`join`, `needs`, `mineArrival`).
 *
 * It is the one structure of the phase that grows with every outcome side of the corpus (a later
 * run may pair with any earlier run of its group), so it is kept in columns: a side is its arrival
 * number (its `seq`), with its parent in the union-find, pair count, outcome, settled state and the
 * 128-bit hashes of its opening and conversation in typed arrays, and a group is the linked list
 * of its members (first, last, next): 68 bytes a side in typed arrays (up to twice that while they
 * have room to grow), ~200 bytes with the id → number map, the id strings and the task map
 * (measured at 300k rows: 566 bytes as objects before). A group's candidates and contradicting twin
 * are found by walking its members (the same sides, in the same order once sorted, as per-group
 * maps of openings and conversations gave; linear in the group, as copying and sorting the old
 * candidate list was).
 */
export class PairBook {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly parent = new Int32Column();
  private readonly pairs = new Int32Column();
  /** 1 accepted, 0 rejected; and OPEN / PARTNER / QUARANTINED. */
  private readonly accepted = new Int32Column();
  private readonly settled = new Int32Column();
  /** Four words of the opening hash, then four of the conversation hash, per side. */
  private readonly hashes = new Int32Column();
  /** At a group's root: its size, its pair count, its first and last member; per side: the next member of its group (-1: last). */
  private readonly size = new Int32Column();
  private readonly groupPairsOf = new Int32Column();
  private readonly first = new Int32Column();
  private readonly last = new Int32Column();
  private readonly next = new Int32Column();
  private readonly byTask = new Map<string, number>();
  /** escalated_from targets not seen yet → the sides that name them. */
  private readonly waiting = new Map<string, number[]>();

  has(id: string): boolean {
    return this.index.has(id);
  }

  private at(id: string): number {
    const i = this.index.get(id);
    if (i === undefined) throw new Error(`outcome side ${id} has not arrived`);
    return i;
  }

  private root(x: number): number {
    const parent = this.parent.a;
    let r = x;
    while (parent[r] !== r) r = parent[r] as number;
    let y = x;
    while (y !== r) {
      const p = parent[y] as number;
      parent[y] = r;
      y = p;
    }
    return r;
  }

  private union(a: number, b: number): void {
    let [ra, rb] = [this.root(a), this.root(b)];
    if (ra === rb) return;
    const size = this.size.a;
    if ((size[ra] as number) < (size[rb] as number)) [ra, rb] = [rb, ra];
    this.parent.a[rb] = ra;
    size[ra] = (size[ra] as number) + (size[rb] as number);
    this.groupPairsOf.a[ra] = (this.groupPairsOf.a[ra] as number) + (this.groupPairsOf.a[rb] as number);
    this.next.a[this.last.a[ra] as number] = this.first.a[rb] as number;
    this.last.a[ra] = this.last.a[rb] as number;
  }

  private sameHash(x: number, y: number, word: number): boolean {
    const h = this.hashes.a;
    const [i, j] = [x * 8 + word, y * 8 + word];
    return h[i] === h[j] && h[i + 1] === h[j + 1] && h[i + 2] === h[j + 2] && h[i + 3] === h[j + 3];
  }

  /** A side arrives (after every side already here): it joins its task group as it stands now. */
  join(f: SideFact): void {
    if (this.index.has(f.id)) throw new Error(`outcome side ${f.id} arrives twice`);
    const i = this.ids.length;
    for (const c of [
      this.parent,
      this.pairs,
      this.accepted,
      this.settled,
      this.size,
      this.groupPairsOf,
      this.first,
      this.last,
      this.next,
    ])
      c.ensure(i + 1);
    this.hashes.ensure((i + 1) * 8);
    hexWords(f.opening, this.hashes.a, i * 8);
    hexWords(f.key, this.hashes.a, i * 8 + 4);
    this.index.set(f.id, i);
    this.ids.push(f.id);
    this.parent.a[i] = i;
    this.pairs.a[i] = 0;
    this.accepted.a[i] = f.accepted ? 1 : 0;
    this.settled.a[i] = OPEN;
    this.size.a[i] = 1;
    this.groupPairsOf.a[i] = 0;
    this.first.a[i] = i;
    this.last.a[i] = i;
    this.next.a[i] = -1;
    if (f.task !== null) {
      const first = this.byTask.get(f.task);
      if (first === undefined) this.byTask.set(f.task, i);
      else this.union(first, i);
    }
    if (f.from !== null && f.from !== f.id) {
      const from = this.index.get(f.from);
      if (from !== undefined) this.union(from, i);
      else {
        const w = this.waiting.get(f.from);
        if (w) w.push(i);
        else this.waiting.set(f.from, [i]);
      }
    }
    const named = this.waiting.get(f.id);
    if (named) {
      for (const w of named) this.union(w, i);
      this.waiting.delete(f.id);
    }
  }

  /** The members of `i`'s group as it stands now. */
  private *members(i: number): Generator<number> {
    for (let m = this.first.a[this.root(i)] as number; m !== -1; m = this.next.a[m] as number) yield m;
  }

  /** The earlier side of the other outcome with the same conversation as `id`, if any. */
  twinOf(id: string): string | null {
    const i = this.at(id);
    const other = 1 - (this.accepted.a[i] as number);
    let best = -1;
    for (const m of this.members(i))
      if (
        this.settled.a[m] !== OPEN &&
        this.accepted.a[m] === other &&
        (best === -1 || m < best) &&
        this.sameHash(m, i, 4)
      )
        best = m;
    return best === -1 ? null : (this.ids[best] as string);
  }

  /** The pairs of `id`'s task group so far. */
  groupPairs(id: string): number {
    return this.groupPairsOf.a[this.root(this.at(id))] as number;
  }

  /** The earlier sides `id` may pair with: the other outcome, same opening; fewest pairs first, then earliest. */
  candidates(id: string): string[] {
    const i = this.at(id);
    const other = 1 - (this.accepted.a[i] as number);
    const list: number[] = [];
    for (const m of this.members(i))
      if (this.settled.a[m] === PARTNER && this.accepted.a[m] === other && this.sameHash(m, i, 0))
        list.push(m);
    const pairs = this.pairs.a;
    list.sort((x, y) => (pairs[x] as number) - (pairs[y] as number) || x - y);
    return list.map((m) => this.ids[m] as string);
  }

  /** The sides whose conversations `mineArrival` will read for `id` (none when it is a contradiction or its task is at the cap). */
  needs(id: string, cap: number): string[] {
    if (this.twinOf(id) !== null || this.groupPairs(id) >= cap) return [];
    return this.candidates(id);
  }

  /** `id` (arriving) formed a pair with the earlier side `partner`. */
  pair(id: string, partner: string): void {
    const p = this.index.get(partner);
    const i = this.at(id);
    if (p === undefined || this.root(p) !== this.root(i))
      throw new Error(`run ${id} is paired with ${partner}, which is not an earlier run of its task group`);
    this.pairs.a[p] = (this.pairs.a[p] as number) + 1;
    this.pairs.a[i] = (this.pairs.a[i] as number) + 1;
    const r = this.root(i);
    this.groupPairsOf.a[r] = (this.groupPairsOf.a[r] as number) + 1;
  }

  /** `id` is decided: a later run may pair with it unless it was quarantined as a contradiction. */
  settle(id: string, quarantined: boolean): void {
    this.settled.a[this.at(id)] = quarantined ? QUARANTINED : PARTNER;
  }

  /** Replays a decision a build made before: the side arrives, forms the pairs it formed then, and is settled. */
  replay(f: SideFact, quarantined: boolean, partners: readonly string[]): void {
    this.join(f);
    for (const p of partners) this.pair(f.id, p);
    this.settle(f.id, quarantined);
  }

  /**
   * Runs of task groups with both outcomes whose opening no run of the other outcome in the group
   * shares (`runs_no_shared_opening`), over the groups as they stand now (possible partners only:
   * a side quarantined as a contradiction is no one's partner).
   */
  noSharedOpening(): number {
    let n = 0;
    const h = this.hashes.a;
    for (let r = 0; r < this.ids.length; r++) {
      if (this.parent.a[r] !== r) continue;
      let a = 0;
      let rj = 0;
      const byOpening = new Map<string, [number, number]>();
      for (const m of this.members(r)) {
        if (this.settled.a[m] !== PARTNER) continue;
        const k = `${h[m * 8]},${h[m * 8 + 1]},${h[m * 8 + 2]},${h[m * 8 + 3]}`;
        const o = byOpening.get(k) ?? [0, 0];
        if (this.accepted.a[m] === 1) {
          o[0]++;
          a++;
        } else {
          o[1]++;
          rj++;
        }
        byOpening.set(k, o);
      }
      if (a === 0 || rj === 0) continue;
      for (const [oa, or] of byOpening.values()) if (oa === 0 || or === 0) n += oa + or;
    }
    return n;
  }
}

/** What one arrival decided: the rows it made, the earlier runs it paired with, and whether it was quarantined as a contradiction. */
export interface Arrival {
  rows: MinedRows;
  partners: string[];
  quarantined: boolean;
}

/**
 * Step 2, per outcome side, in time order (after `book.join`): the run is quarantined when an
 * earlier run of its task group with the other outcome had the same conversation (contradicting
 * outcomes); else it forms pairs with the earlier runs of the other outcome that share its opening
 * (`book.candidates`: fewest pairs so far, then earliest), while the group's pair count is below
 * the cap; a run that formed no pair is a KTO row. `get` gives each candidate's conversation
 * (`book.needs` names them). Every row is the arriving run's: it lives in its shard.
 */
export function mineArrival(
  book: PairBook,
  u: Usable,
  get: (id: string) => Usable,
  opts: Opts,
  stats: PreferenceStats,
): Arrival {
  const rows = mined();
  const id = u.run.run_id;
  const accepted = u.run.category === 'accepted';
  const twin = book.twinOf(id);
  if (twin !== null) {
    stats.runs_quarantined++;
    rows.drops.push(
      runDrop(
        u.run,
        'IDENTICAL_TEXT',
        `same conversation as ${accepted ? 'rejected' : 'accepted'} run ${twin} of the same task, an earlier run: contradicting outcomes`,
        twin,
      ),
    );
    book.settle(id, true);
    return { rows, partners: [], quarantined: true };
  }
  const candidates = book.candidates(id);
  const partners: string[] = [];
  let k = 0;
  for (; k < candidates.length && book.groupPairs(id) < opts.cap; k++) {
    const other = get(candidates[k] as string);
    const [c, x] = accepted ? [u, other] : [other, u];
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
    book.pair(id, other.run.run_id);
    partners.push(other.run.run_id);
  }
  stats.pairs_capped += candidates.length - k; // candidates not tried: the task reached the cap
  book.settle(id, false);
  if (partners.length > 0) {
    stats.runs_paired++;
    return { rows, partners, quarantined: false };
  }
  // no partner when it arrived (none earlier, every candidate refused, or the task at the cap): an
  // unpaired KTO row, desirable iff accepted; it stays one even if a later run pairs with it
  const label = accepted;
  const { tools, derived } = declaredTools(u.run.run.tools, [u.prompt, u.completion]);
  stats.runs_kto++;
  rows.kto.push(
    KtoSample.parse({
      schema_version: KTO_V,
      id: contentId('kto', id, String(label), canonicalJson(u.prompt), canonicalJson(u.completion)),
      run_id: id,
      task_key: u.run.task_key,
      prompt: u.prompt,
      ...(tools.length > 0 ? { tools } : {}),
      derived_tools: derived,
      completion: u.completion,
      repairs: u.repairs,
      label,
      split: splitOf(splitGroup(u.run.task_key, id), opts.testFraction),
      provenance: u.run.provenance,
    }),
  );
  return { rows, partners, quarantined: false };
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
 * judgment), unpaired KTO rows and drops. Deterministic whatever the input order. Runs are taken
 * in time order (day, recorded_at, run_id); each outcome side is decided when it arrives, against
 * the earlier ones only. (The phase runs the same steps day by day, keeping the decisions in its
 * state so a later build replays them instead of deciding again.)
 */
export function minePreferences(
  runsIn: readonly ScoredRun[],
  judgmentsIn: readonly JudgmentEvidence[],
  opts: Opts,
): PreferenceMining {
  // time order: the day a run is filed under (its recorded_at's; undated last), recorded_at, run_id
  const at = (r: ScoredRun): string =>
    timeOrderKey(shardOfRecordedAt(r.recorded_at), r.recorded_at, r.run_id);
  const runs = [...runsIn].sort((a, b) => (at(a) < at(b) ? -1 : 1));
  const judgments = [...judgmentsIn].sort((a, b) => (a.evidence_id < b.evidence_id ? -1 : 1));
  const all = mined();
  const take = (rows: MinedRows): void => {
    all.pairs.push(...rows.pairs);
    all.kto.push(...rows.kto);
    all.drops.push(...rows.drops);
  };
  const stats = emptyStats(runs.length, judgments.length);
  const book = new PairBook();
  const sides = new Map<string, Usable>();
  for (const run of runs) {
    const { side, rows } = mineRun(run, opts, stats);
    take(rows);
    if (!side) continue;
    sides.set(run.run_id, side);
    book.join(factOf(side));
    take(mineArrival(book, side, (id) => sides.get(id) as Usable, opts, stats).rows);
  }
  stats.runs_no_shared_opening = book.noSharedOpening();
  for (const j of judgments) take(mineJudgment(j, opts, stats));
  checkAccounting(stats);
  return { pairs: sortById(all.pairs), kto: sortById(all.kto), drops: all.drops, stats };
}
