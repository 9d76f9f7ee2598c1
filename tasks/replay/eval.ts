import type { ReplayCall } from '../../schemas/replay-call.ts';
import type { SftSample } from '../../schemas/sft-sample.ts';
import { probeModel } from './client.ts';
import {
  armMetrics,
  levelMetrics,
  relevance,
  scoreRetrieval,
  tokenF1,
  type ArmMetrics,
  type ArmTaskResult,
  type CorpusDoc,
  type LevelMetrics,
  type TaskRetrieval,
} from './eval-metrics.ts';
import { evalTasks, type EvalTask } from './eval-tasks.ts';
import type { RagIndex } from '../lib/rag-index.ts';
import { failureCode, runReplay } from './replay.ts';
import { retrieve } from './retrieve.ts';
import type { ReplaySettings } from './settings.ts';
import type { TaskKind } from './validate.ts';

/**
 * replay-eval: the held-out (test split) SFT tasks, retrieved with and without context, and
 * answered by the local model in two arms. Retrieval metrics need no model; when none is
 * reachable the model arms are marked unavailable with a note saying why and how to start one.
 */

/** The two arms of the A/B. */
export const ARMS = ['retrieval', 'no-retrieval'] as const;
export type Arm = (typeof ARMS)[number];

/** Options of one eval run. */
export interface EvalOptions {
  kind: TaskKind;
  /** Evaluate only the first N tasks (by id); null = all. */
  limit: number | null;
}

/** One example query with its top results, for the report and docs/replay.md. */
export interface EvalExample {
  task_id: string;
  task_key: string | null;
  family: string | null;
  query: string;
  relevant: { task: number; family: number };
  results: {
    rank: number;
    id: string;
    score: number;
    task_key: string;
    relevance: 'task' | 'family' | '-';
    snippet: string;
  }[];
}

/** One arm in the report. */
export type ArmReport =
  | { arm: Arm; status: 'ran'; retrieval_hit_rate: number | null; metrics: ArmMetrics }
  | { arm: Arm; status: 'unavailable'; retrieval_hit_rate: number | null; note: string };

/** One task's line in the report. */
export interface TaskReport {
  id: string;
  task_key: string | null;
  family: string | null;
  retrieved_ids: string[];
  relevant: { task: number; family: number };
  hits: { task: number; family: number };
  arms: Partial<Record<Arm, ArmTaskResult>>;
}

/** The replay-eval report (reports/replay/eval.json). Deterministic when no model runs. */
export interface EvalReport {
  schema_version: 1;
  inputs: { index: string; index_documents: number; sft_file: string; sft_test_rows: number };
  settings: {
    k: number;
    kind: TaskKind;
    agreement_threshold: number;
    limit: number | null;
    local: { base_url: string; model: string; timeout_ms: number };
    temperature: number;
    seed: number | null;
    max_tokens: number;
  };
  tasks: { evaluated: number; skipped: Record<string, number> };
  retrieval: {
    k: number;
    relevance: string;
    task: LevelMetrics;
    family: LevelMetrics;
    hit_rate: number | null;
  };
  examples: EvalExample[];
  model: { status: 'available' | 'unavailable'; note: string | null };
  arms: ArmReport[];
  per_task: TaskReport[];
}

const oneLine = (s: string, max: number): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** Pure: up to three examples, the first task (by id) of each of the first three families with a relevant document. */
export function pickExamples(
  tasks: readonly EvalTask[],
  retrievals: readonly TaskRetrieval[],
  corpus: readonly CorpusDoc[],
  count = 3,
): EvalExample[] {
  const byFamily = new Map<string, number>();
  tasks.forEach((t, i) => {
    const fam = t.family ?? `(none:${t.id})`;
    if (!byFamily.has(fam) && (retrievals[i] as TaskRetrieval).relevant.family > 0) byFamily.set(fam, i);
  });
  const picked = [...byFamily.values()].slice(0, count);
  // fewer families than examples: fill with the next tasks in id order
  for (let i = 0; i < tasks.length && picked.length < count; i++) if (!picked.includes(i)) picked.push(i);
  picked.sort((a, b) => a - b);
  const keyOf = new Map(corpus.map((d) => [d.id, d]));
  return picked.map((i) => {
    const t = tasks[i] as EvalTask;
    const r = retrievals[i] as TaskRetrieval;
    return {
      task_id: t.id,
      task_key: t.taskKey,
      family: t.family,
      query: oneLine(t.query, 160),
      relevant: r.relevant,
      results: r.retrieved.map((d) => {
        const doc = keyOf.get(d.id);
        return {
          rank: d.rank,
          id: d.id,
          score: d.score,
          task_key: d.task_key,
          relevance: (doc ? relevance(t, doc) : null) ?? '-',
          snippet: oneLine(d.text, 90),
        };
      }),
    };
  });
}

/** What the eval shell hands in. */
export interface EvalInputs {
  index: RagIndex;
  corpus: CorpusDoc[];
  indexPath: string;
  sftFile: string;
  sftRows: readonly SftSample[];
}

/**
 * Runs the eval. Retrieval metrics always; the model arms only when the local server answers a
 * probe. `log` receives every model call; `progress` a line per task.
 */
export async function runEval(
  settings: ReplaySettings,
  inputs: EvalInputs,
  opts: EvalOptions,
  env: Readonly<Record<string, string | undefined>>,
  log: (row: ReplayCall) => Promise<void>,
  progress: (msg: string) => void,
): Promise<EvalReport> {
  const k = settings.k;
  const all = evalTasks(inputs.sftRows);
  const tasks = opts.limit === null ? all.tasks : all.tasks.slice(0, opts.limit);
  const testRows = inputs.sftRows.filter((r) => r.split === 'test').length;

  const retrievals = tasks.map((t) =>
    scoreRetrieval(
      t,
      retrieve(inputs.index, t.query, k, (d) => d.trace_id === t.runId),
      inputs.corpus,
    ),
  );
  const withFamily = retrievals.filter((r) => r.hits.family > 0).length;
  const retrieval = {
    k,
    relevance:
      'documents from other runs of the same task_key (task) or task family (family); the held-out run itself is excluded from retrieval',
    task: levelMetrics(retrievals, 'task', k),
    family: levelMetrics(retrievals, 'family', k),
    hit_rate: tasks.length === 0 ? null : Math.round((withFamily / tasks.length) * 1e4) / 1e4,
  };

  const probe =
    tasks.length === 0 ? { error: null, models: null } : await probeModel('local', settings.local, env);
  let model: EvalReport['model'];
  let arms: ArmReport[];
  const results: Record<Arm, ArmTaskResult[]> = { retrieval: [], 'no-retrieval': [] };
  if (tasks.length === 0) {
    model = { status: 'unavailable', note: 'no held-out tasks to run: exports/sft has no test-split rows' };
    arms = ARMS.map((arm) => ({
      arm,
      status: 'unavailable',
      retrieval_hit_rate: arm === 'retrieval' ? retrieval.hit_rate : null,
      note: model.note as string,
    }));
  } else if (probe.error) {
    const note = `model arms not run: ${probe.error.message}`;
    model = { status: 'unavailable', note };
    arms = ARMS.map((arm) => ({
      arm,
      status: 'unavailable',
      retrieval_hit_rate: arm === 'retrieval' ? retrieval.hit_rate : null,
      note,
    }));
  } else {
    const listed = probe.models;
    const note =
      listed !== null && listed.length > 0 && !listed.includes(settings.local.model)
        ? `${settings.local.base_url} does not list ${settings.local.model} (it lists ${listed.slice(0, 5).join(', ')}${listed.length > 5 ? ', …' : ''})`
        : null;
    model = { status: 'available', note };
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i] as EvalTask;
      progress(`replay-eval: task ${i + 1}/${tasks.length} ${t.id}`);
      for (const arm of ARMS) {
        const out = await runReplay(
          settings,
          {
            command: 'replay-eval',
            taskId: t.id,
            task: t.task,
            kind: opts.kind,
            appSystem: t.appSystem,
            retrieved: arm === 'retrieval' ? (retrievals[i] as TaskRetrieval).retrieved : null,
            allowEscalation: false,
          },
          env,
          log,
        );
        const a = out.attempts[0];
        if (!a) throw new Error('runReplay made no attempt');
        const r = a.outcome.result;
        results[arm].push({
          valid: r.ok ? Boolean(a.validation?.ok) : null,
          code: failureCode(a),
          f1: r.ok
            ? Math.round(tokenF1(a.validation?.answer ?? r.value.content ?? '', t.expected) * 1e4) / 1e4
            : null,
          latencyMs: a.outcome.latencyMs,
          promptTokens: r.ok ? r.value.promptTokens : null,
          completionTokens: r.ok ? r.value.completionTokens : null,
        });
      }
    }
    arms = ARMS.map((arm) => ({
      arm,
      status: 'ran',
      retrieval_hit_rate: arm === 'retrieval' ? retrieval.hit_rate : null,
      metrics: armMetrics(results[arm], settings.agreement_threshold),
    }));
  }

  return {
    schema_version: 1,
    inputs: {
      index: inputs.indexPath,
      index_documents: inputs.index.documents,
      sft_file: inputs.sftFile,
      sft_test_rows: testRows,
    },
    settings: {
      k,
      kind: opts.kind,
      agreement_threshold: settings.agreement_threshold,
      limit: opts.limit,
      local: {
        base_url: settings.local.base_url,
        model: settings.local.model,
        timeout_ms: settings.local.timeout_ms,
      },
      temperature: settings.temperature,
      seed: settings.seed,
      max_tokens: settings.max_tokens,
    },
    tasks: { evaluated: tasks.length, skipped: all.skipped },
    retrieval,
    examples: pickExamples(tasks, retrievals, inputs.corpus),
    model,
    arms,
    per_task: tasks.map((t, i) => {
      const r = retrievals[i] as TaskRetrieval;
      const taskArms: TaskReport['arms'] = {};
      for (const arm of ARMS) {
        const res = results[arm][i];
        if (res) taskArms[arm] = res;
      }
      return {
        id: t.id,
        task_key: t.taskKey,
        family: t.family,
        retrieved_ids: r.retrieved.map((d) => d.id),
        relevant: r.relevant,
        hits: r.hits,
        arms: taskArms,
      };
    }),
  };
}
