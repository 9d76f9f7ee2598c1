import type { ChatMessage } from '../../../schemas/chat.ts';
import type { Provenance } from '../../../schemas/provenance.ts';
import { prepareConversation } from '../../lib/export/conversation.ts';
import { isSubstantive } from '../../lib/export/substance.ts';
import type { ScoredRun } from '../../../schemas/scored-run.ts';
import { normaliseForCompare } from '../../lib/export/messages.ts';
import { openaiDpoRow } from '../../lib/export/formats/openai.ts';
import { conversationKey, sharedPrefix } from '../../lib/export/pairs.ts';
import { isSftNever } from '../../phases/export-sft/contract.ts';
import { EXPORT_DIRS } from '../../phases/registry.ts';
import { SPLITS, splitGroup, splitOf } from '../../lib/export/split.ts';
import { EVIDENCE_SHARD, shardOfFile, shardOfInput } from '../../lib/export/shards.ts';
import { KTO_FAMILY, PAIR_FAMILY } from '../../phases/export-preference/contract.ts';
import { RAG_FAMILY } from '../../phases/export-rag/contract.ts';
import { SFT_FAMILY } from '../../phases/export-sft/contract.ts';
import { SCREENED_DIR } from '../../phases/screen/contract.ts';
import * as v from './format-validators.ts';
import { sourceKey, type Snapshot } from './snapshot.ts';
import { verdict, type CheckResult } from './verdict.ts';

/** Rows of a JSONL file of the snapshot (none when absent). */
/** The day-shard files `<folder>/<shard>.jsonl` of one export folder, in shard order. */
export function shardFiles(s: Snapshot, folder: string): string[] {
  return Object.keys(s.files)
    .filter(
      (f) => f.startsWith(`${folder}/`) && f.endsWith('.jsonl') && !f.slice(folder.length + 1).includes('/'),
    )
    .sort();
}

/** The rows of every shard file of a folder, in shard order. */
export function shardRows(s: Snapshot, folder: string): unknown[] {
  return shardFiles(s, folder).flatMap((f) => fileRows(s, f));
}

export function fileRows(s: Snapshot, rel: string): unknown[] {
  const text = s.files[rel];
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

const sameRow = (a: Provenance, b: Provenance): boolean =>
  a.source_file === b.source_file && a.line_offset === b.line_offset && a.sig_hash === b.sig_hash;

/** The screened runs by id (the runs every export read). */
function runsById(s: Snapshot): Map<string, ScoredRun> {
  return new Map(s.screened.runs.map((r) => [r.run_id, r]));
}

/**
 * A07: SFT holds no forbidden category: exports/sft only accepted runs, exports/sft-partial only
 * accepted and partially accepted ones, each row's quality_score the category of its run.
 */
export function sftCategoriesAllowed(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const runs = runsById(s);
  const check = (dir: string, rows: Snapshot['exports']['sft'], allowed: readonly string[]): void => {
    for (const r of rows) {
      const cat = runs.get(r.run_id)?.category;
      if (!allowed.includes(r.quality_score))
        problems.push(
          `${dir}: ${r.id} has quality_score ${r.quality_score}; only ${allowed.join(' / ')} may be exported there`,
        );
      if (cat === undefined)
        problems.push(`${dir}: ${r.id} comes from run ${r.run_id}, which is not a screened run`);
      else if (isSftNever(cat))
        problems.push(`${dir}: ${r.id} comes from ${cat} run ${r.run_id} (SFT_NEVER)`);
      else if (cat !== r.quality_score)
        problems.push(`${dir}: ${r.id} says ${r.quality_score}, but run ${r.run_id} is ${cat}`);
    }
  };
  check(EXPORT_DIRS.sft, s.exports.sft, ['accepted']);
  check(EXPORT_DIRS.sftPartial, s.exports.sftPartial, ['accepted', 'partially_accepted']);
  const partial = s.exports.sftPartial.filter((r) => r.quality_score === 'partially_accepted').length;
  return verdict(
    problems,
    `${EXPORT_DIRS.sft}: ${s.exports.sft.length} rows, all accepted; ${EXPORT_DIRS.sftPartial}: ${s.exports.sftPartial.length} rows (${partial} partially accepted); none from a rejected or needs_human_review run`,
  );
}

/** True when `part` is the opening of the run's conversation (as exported: reasoning out, roles repaired). */
function opensRun(part: readonly ChatMessage[], run: ScoredRun | undefined): boolean {
  if (!run) return false;
  const conv = prepareConversation(run.run.messages);
  return conv.type === 'keep' && sharedPrefix(part, conv.messages).length === part.length;
}

/**
 * A08: every preference pair is sound: two different sides from two different source rows (a
 * judgment's own row excepted), different sides, a prompt that reaches the first user turn,
 * sides that are not both pleasantries; outcome pairs accepted over rejected with prompt + each
 * side the opening of that side's own run (one shared context, never two spliced dialogues);
 * correction pairs the human correction over the run's answer; KTO labels match the run's category;
 * no run that formed a pair when it arrived is also a KTO row.
 */
export function preferencePairsSound(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const runs = runsById(s);
  const cat = (id: string): string => runs.get(id)?.category ?? 'missing';
  // a run's unit is decided when it arrives (time order: day, recorded_at, run_id): a run that
  // formed a pair then (the later side of an outcome pair, a corrected run) is never a KTO row; the
  // earlier side of an outcome pair may be one (it found no partner when it came)
  const when = (id: string): string => {
    const r = runs.get(id);
    return `${r?.recorded_at?.slice(0, 10) ?? '~'}\u0000${r?.recorded_at ?? ''}\u0000${id}`;
  };
  const paired = new Set<string>();
  const ids = new Set<string>();
  for (const p of s.exports.pairs) {
    if (ids.has(p.id)) problems.push(`pair id ${p.id} appears twice`);
    ids.add(p.id);
    if (p.chosen_id === p.rejected_id) problems.push(`${p.id}: self-pair (both sides are ${p.chosen_id})`);
    if (p.pair_type !== 'judgment' && sameRow(p.chosen_provenance, p.rejected_provenance))
      problems.push(
        `${p.id}: both sides come from source row ${p.chosen_provenance.source_file}:${p.chosen_provenance.line_offset + 1}`,
      );
    if (conversationKey(p.chosen) === conversationKey(p.rejected))
      problems.push(`${p.id}: chosen and rejected are identical`);
    if (!p.prompt.some((m) => m.role === 'user'))
      problems.push(`${p.id}: the prompt does not reach a user turn`);
    if (!p.chosen.some(isSubstantive) && !p.rejected.some(isSubstantive))
      problems.push(`${p.id}: both sides are only pleasantries`);
    if (p.pair_type === 'outcome') {
      if (cat(p.chosen_id) !== 'accepted' || cat(p.rejected_id) !== 'rejected')
        problems.push(
          `${p.id}: outcome pair of ${p.chosen_id} (${cat(p.chosen_id)}) over ${p.rejected_id} (${cat(p.rejected_id)}), expected accepted over rejected`,
        );
      for (const side of ['chosen', 'rejected'] as const)
        if (!opensRun([...p.prompt, ...p[side]], runs.get(side === 'chosen' ? p.chosen_id : p.rejected_id)))
          problems.push(
            `${p.id}: prompt + ${side} is not the opening of run ${side === 'chosen' ? p.chosen_id : p.rejected_id}`,
          );
      paired.add(when(p.chosen_id) > when(p.rejected_id) ? p.chosen_id : p.rejected_id);
    } else if (p.pair_type === 'correction') {
      const run = runs.get(p.rejected_id);
      if (
        !run ||
        run.category !== 'partially_accepted' ||
        run.correction === null ||
        p.chosen.length !== 1 ||
        normaliseForCompare(run.correction) !== normaliseForCompare(p.chosen[0]?.content ?? '') ||
        !opensRun([...p.prompt, ...p.rejected], run)
      )
        problems.push(
          `${p.id}: correction pair whose chosen side is not the human correction of partially accepted run ${p.rejected_id}`,
        );
      paired.add(p.rejected_id);
    } else {
      const base = p.chosen_id.split('#')[0];
      if (p.chosen_id !== `${base}#chosen` || p.rejected_id !== `${base}#rejected`)
        problems.push(
          `${p.id}: judgment sides ${p.chosen_id} / ${p.rejected_id} are not one judgment's chosen and rejected`,
        );
    }
  }
  for (const k of s.exports.kto) {
    const c = cat(k.run_id);
    if (c !== 'accepted' && c !== 'rejected')
      problems.push(`KTO ${k.id}: run ${k.run_id} is ${c}; only accepted / rejected runs get a label`);
    else if (k.label !== (c === 'accepted'))
      problems.push(`KTO ${k.id}: label ${k.label} for ${c} run ${k.run_id}`);
    if (paired.has(k.run_id))
      problems.push(
        `KTO ${k.id}: run ${k.run_id} also formed a pair when it arrived (the later side of a pair)`,
      );
  }
  return verdict(
    problems,
    `${s.exports.pairs.length} pairs: no self-pair, no identical texts, outcome pairs accepted over rejected, corrections over originals; ${s.exports.kto.length} KTO rows labelled by category`,
  );
}

/** One side of an export row to walk back: its provenance and the upstream record it names. */
interface Walk {
  row: string;
  provenance: Provenance;
  run: string | null;
  evidence: string | null;
}

function walks(s: Snapshot): Walk[] {
  const out: Walk[] = [];
  for (const [dir, rows] of [
    [EXPORT_DIRS.sft, s.exports.sft],
    [EXPORT_DIRS.sftPartial, s.exports.sftPartial],
  ] as const)
    for (const r of rows)
      out.push({ row: `${dir} ${r.id}`, provenance: r.provenance, run: r.run_id, evidence: null });
  for (const k of s.exports.kto)
    out.push({ row: `kto ${k.id}`, provenance: k.provenance, run: k.run_id, evidence: null });
  for (const r of s.exports.rag) {
    const isRun = r.metadata['kind'] === 'run';
    out.push({
      row: `rag ${r.id}`,
      provenance: r.provenance,
      run: isRun ? String(r.metadata['trace_id']) : null,
      evidence: isRun ? null : String(r.metadata['evidence_id']),
    });
  }
  for (const p of s.exports.pairs) {
    for (const side of ['chosen', 'rejected'] as const) {
      const id = (side === 'chosen' ? p.chosen_id : p.rejected_id).split('#')[0] as string;
      const isEvidence =
        p.pair_type === 'judgment' ||
        (p.pair_type === 'correction' && side === 'chosen' && id.startsWith('ev_'));
      out.push({
        row: `pair ${p.id} ${side}`,
        provenance: side === 'chosen' ? p.chosen_provenance : p.rejected_provenance,
        run: isEvidence ? null : id,
        evidence: isEvidence ? id : null,
      });
    }
  }
  return out;
}

/**
 * A09: every export row walks back to its source: the run or evidence record it names exists with
 * the same provenance, and the source row re-read now has the recorded sig_hash (`distill trace`).
 */
export function provenanceResolves(s: Snapshot): CheckResult {
  const problems: string[] = [];
  const runs = new Map(s.scored.map((r) => [r.run_id, r.provenance]));
  const evidence = new Map(s.evidence.map((e) => [e.evidence_id, e.provenance]));
  const all = walks(s);
  for (const w of all) {
    const p = w.provenance;
    const at = `${p.source_file}:${p.line_offset + 1}`;
    const check = s.sourceChecks[sourceKey(p)];
    if (!check) problems.push(`${w.row}: source row ${at} was not re-read`);
    else if (check.actual === null)
      problems.push(`${w.row}: source row ${at} cannot be re-read (${check.detail})`);
    else if (check.actual !== p.sig_hash)
      problems.push(
        `${w.row}: source row ${at} hashes to ${check.actual.slice(0, 12)}…, the row records ${p.sig_hash.slice(0, 12)}…`,
      );
    const up = w.run !== null ? runs.get(w.run) : w.evidence !== null ? evidence.get(w.evidence) : undefined;
    const name = w.run !== null ? `run ${w.run}` : `evidence ${w.evidence}`;
    if (!up)
      problems.push(`${w.row}: ${name} is not in ${w.run !== null ? 'data/scored-runs' : 'data/evidence'}`);
    else if (!sameRow(up, p))
      problems.push(
        `${w.row}: ${name} has provenance ${up.source_file}:${up.line_offset + 1}, the export row says ${at}`,
      );
  }
  return verdict(
    problems,
    `${all.length} export row sides walk back through their run / evidence record to ${Object.keys(s.sourceChecks).length} source rows; every sig_hash matches the row as it reads now`,
  );
}

/** The split files of each export: prefix → the canonical rows it is split from. */
type Family = { dir: string; prefix: string; rows: { id: string; split: string }[]; ids: 'row' | 'sidecar' };

/** The split files of each export; OpenAI rows carry no id (a sidecar maps lines to ids) and OpenAI DPO holds only one-text-turn pairs. */
function splitFamilies(s: Snapshot): Family[] {
  const out: Family[] = [];
  for (const [dir, rows] of [
    [EXPORT_DIRS.sft, s.exports.sft],
    [EXPORT_DIRS.sftPartial, s.exports.sftPartial],
  ] as const) {
    for (const prefix of ['openai', 'trl', 'hf/data'])
      out.push({ dir, prefix, rows, ids: prefix === 'openai' ? 'sidecar' : 'row' });
  }
  out.push({
    dir: EXPORT_DIRS.preference,
    prefix: 'openai',
    rows: s.exports.pairs.filter((p) => openaiDpoRow(p) !== null),
    ids: 'sidecar',
  });
  for (const prefix of ['trl/preference', 'hf/preference'])
    out.push({ dir: EXPORT_DIRS.preference, prefix, rows: s.exports.pairs, ids: 'row' });
  for (const prefix of ['trl/kto', 'hf/kto'])
    out.push({ dir: EXPORT_DIRS.preference, prefix, rows: s.exports.kto, ids: 'row' });
  return out;
}

/**
 * Rows not in the day shard docs/exports.md names: an SFT row, a KTO row and a RAG run chunk in
 * the shard of their run (the day file of data/screened/runs/ that holds it), an outcome pair in
 * the later of its two runs' shards, a correction pair in its run's, a judgment pair and a RAG
 * knowledge document in `evidence`. Read from the files themselves (which shard file holds what),
 * so a row filed under another day — which an incremental build would then never replace — is found.
 */
function misplacedInDayShards(s: Snapshot): string[] {
  const problems: string[] = [];
  const runShard = new Map<string, string>();
  for (const f of Object.keys(s.files).sort())
    if (f.startsWith(`${SCREENED_DIR}/runs/`) && f.endsWith('.jsonl') && !f.includes('/_quarantine'))
      for (const r of fileRows(s, f)) runShard.set((r as { run_id: string }).run_id, shardOfInput(f));
  const of = (run: string): string => runShard.get(run) ?? `(run ${run} is in no screened day file)`;
  const families: [string, string, (r: Record<string, unknown>) => string][] = [
    [EXPORT_DIRS.sft, SFT_FAMILY, (r) => of(String(r['run_id']))],
    [EXPORT_DIRS.sftPartial, SFT_FAMILY, (r) => of(String(r['run_id']))],
    [EXPORT_DIRS.preference, KTO_FAMILY, (r) => of(String(r['run_id']))],
    [
      EXPORT_DIRS.preference,
      PAIR_FAMILY,
      (r) => {
        if (r['pair_type'] === 'judgment') return EVIDENCE_SHARD;
        if (r['pair_type'] === 'correction') return of(String(r['rejected_id']));
        const [a, b] = [of(String(r['chosen_id'])), of(String(r['rejected_id']))];
        return a > b ? a : b;
      },
    ],
    [
      EXPORT_DIRS.rag,
      RAG_FAMILY,
      (r) => {
        const meta = (r['metadata'] ?? {}) as Record<string, unknown>;
        return meta['kind'] === 'run' ? of(String(meta['trace_id'])) : EVIDENCE_SHARD;
      },
    ],
  ];
  for (const [dir, family, want] of families)
    for (const f of shardFiles(s, `${dir}/${family}`)) {
      const shard = shardOfFile(f);
      for (const r of fileRows(s, f) as Record<string, unknown>[]) {
        const w = want(r);
        if (w !== shard) problems.push(`${f}: ${String(r['id'])} belongs in shard ${w}`);
      }
    }
  return problems;
}

/**
 * A19: splits are grouped by task: each row's split is the hash split of its task_key (or its own
 * key when it has none), no task has rows in both splits across SFT, pairs and KTO, and every
 * split file holds exactly the rows of its split.
 */
export function splitsGroupedByTask(s: Snapshot): CheckResult {
  const problems: string[] = [];
  problems.push(...misplacedInDayShards(s));
  const tf = s.config.exports.test_fraction;
  const rows: { what: string; task: string | null; own: string; split: string }[] = [
    ...s.exports.sft.map((r) => ({ what: `sft ${r.id}`, task: r.task_key, own: r.run_id, split: r.split })),
    ...s.exports.sftPartial.map((r) => ({
      what: `sft-partial ${r.id}`,
      task: r.task_key,
      own: r.run_id,
      split: r.split,
    })),
    ...s.exports.pairs.map((r) => ({ what: `pair ${r.id}`, task: r.task_key, own: r.id, split: r.split })),
    ...s.exports.kto.map((r) => ({ what: `kto ${r.id}`, task: r.task_key, own: r.run_id, split: r.split })),
  ];
  const byTask = new Map<string, Set<string>>();
  for (const r of rows) {
    const want = splitOf(splitGroup(r.task, r.own), tf);
    if (r.split !== want)
      problems.push(`${r.what}: split ${r.split}, but its task ${r.task ?? '(none)'} hashes to ${want}`);
    if (r.task !== null) byTask.set(r.task, (byTask.get(r.task) ?? new Set()).add(r.split));
  }
  for (const [task, splits] of byTask)
    if (splits.size > 1) problems.push(`task ${task} has rows in both train and test`);
  for (const f of splitFamilies(s)) {
    for (const split of SPLITS) {
      // the shards of a split folder, read in shard order, hold the canonical rows in (shard, id) order
      const rel = `${f.dir}/${f.prefix}/${split}`;
      const want = f.rows.filter((r) => r.split === split);
      const got = shardRows(s, rel);
      const sidecar = `${f.dir}/${f.prefix}/ids/${split}`;
      const ids =
        f.ids === 'row'
          ? got.map((g) => (g as { id?: unknown }).id)
          : shardFiles(s, sidecar).flatMap((file) =>
              fileRows(s, file).map((g, i) =>
                (g as { line?: unknown }).line === i + 1 ? (g as { id?: unknown }).id : null,
              ),
            );
      if (got.length !== want.length)
        problems.push(`${rel}: ${got.length} rows, the ${split} split has ${want.length}`);
      else if (ids.length !== got.length || ids.some((id, i) => id !== want[i]?.id))
        problems.push(
          `${f.ids === 'row' ? rel : sidecar}: ${f.ids === 'row' ? 'rows are' : 'the id sidecar does not map each line to'} the ${split} rows in id order`,
        );
    }
  }
  const tasks = [...byTask.values()];
  return verdict(
    problems,
    `${rows.length} rows over ${byTask.size} tasks (${tasks.filter((x) => x.has('train')).length} train, ${tasks.filter((x) => x.has('test')).length} test): each row in its task's hash split and its day shard, no task in both, every split file holds exactly its split`,
  );
}

/**
 * A20: the OpenAI and TRL format rules hold for every row of every format file (validators written
 * from FORMATS.md, tasks/gates/acceptance/format-validators.ts), and each HF card lists the data files
 * that exist, with their rows.
 */
export function exportFormatsValid(s: Snapshot): CheckResult {
  const problems: string[] = [];
  let checked = 0;
  const each = (folder: string, check: (row: unknown) => string[]): void => {
    for (const rel of shardFiles(s, folder))
      fileRows(s, rel).forEach((row, i) => {
        checked++;
        for (const e of check(row)) problems.push(`${rel}:${i + 1}: ${e}`);
      });
  };
  for (const [dir, rows] of [
    [EXPORT_DIRS.sft, s.exports.sft],
    [EXPORT_DIRS.sftPartial, s.exports.sftPartial],
  ] as const) {
    const tools = rows.some((r) => r.tools.length > 0);
    for (const split of SPLITS) {
      each(`${dir}/openai/${split}`, v.openaiSft);
      each(`${dir}/trl/${split}`, (r) => v.trlSft(r, tools));
      each(`${dir}/hf/data/${split}`, (r) => v.trlSft(r, tools));
    }
  }
  const pairTools = s.exports.pairs.some((p) => (p.tools ?? []).length > 0);
  const ktoTools = s.exports.kto.some((k) => (k.tools ?? []).length > 0);
  const pref = EXPORT_DIRS.preference;
  for (const split of SPLITS) {
    each(`${pref}/openai/${split}`, v.openaiDpo);
    each(`${pref}/trl/preference/${split}`, (r) => v.trlPreference(r, pairTools));
    each(`${pref}/hf/preference/${split}`, (r) => v.trlPreference(r, pairTools));
    each(`${pref}/trl/kto/${split}`, (r) => v.trlKto(r, ktoTools));
    each(`${pref}/hf/kto/${split}`, (r) => v.trlKto(r, ktoTools));
  }
  let cards = 0;
  for (const dir of [EXPORT_DIRS.sft, EXPORT_DIRS.sftPartial, pref]) {
    const readme = s.files[`${dir}/hf/README.md`];
    if (readme === undefined) {
      problems.push(`${dir}/hf/README.md is missing`);
      continue;
    }
    cards++;
    let configs: Record<string, Record<string, string>>;
    try {
      configs = v.cardConfigs(readme);
    } catch (e) {
      problems.push(`${dir}/hf/README.md: ${(e as Error).message}`);
      continue;
    }
    for (const [name, splits] of Object.entries(configs)) {
      for (const [split, path] of Object.entries(splits)) {
        const rel = `${dir}/hf/${path}`;
        // a `<folder>/*.jsonl` glob (the day shards) or one file
        const files = rel.endsWith('/*.jsonl')
          ? shardFiles(s, rel.slice(0, -'/*.jsonl'.length))
          : s.files[rel] === undefined
            ? []
            : [rel];
        if (files.length === 0)
          problems.push(
            `${dir}/hf/README.md: config ${name} ${split} points at ${path}, which does not exist`,
          );
        else if (files.every((f) => fileRows(s, f).length === 0))
          problems.push(`${dir}/hf/README.md: config ${name} lists ${split}, but ${path} has no rows`);
      }
    }
  }
  if (checked === 0) problems.push('no format file has a row to check');
  return verdict(
    problems,
    `${checked} rows of the OpenAI SFT / DPO and TRL SFT / preference / KTO files (and their HF copies) follow the format rules; ${cards} HF cards point at their data files`,
  );
}
