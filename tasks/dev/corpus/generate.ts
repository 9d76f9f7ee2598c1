import { BAD_ROW_KINDS, badRowText } from './bad-rows.ts';
import { CANARY_KINDS, piiSentence, type CanaryKind } from './canaries.ts';
import { repoFixerTask, sqlAnalystTask, supportAgentTask } from './catalog-agents.ts';
import { codingTask } from './catalog-coding.ts';
import { sqlTask } from './catalog-sql.ts';
import { summaryTask } from './catalog-summary.ts';
import { supportTask } from './catalog-support.ts';
import { dayStart, isoDate } from './clock.ts';
import { knowledgeDocRow, playbookRow } from './documents.ts';
import { judgmentRow } from './judgments.ts';
import { cloudModel, localModel, type ModelChoice } from './models.ts';
import { answerKind, drawPlan, isFailing, signalRows, type Plan } from './outcomes.ts';
import { IdMint, Rng, mix32 } from './prng.ts';
import { agentRun, gatewayRun, type Attempt, type BuiltRun } from './run-rows.ts';
import type { Stream } from './streams.ts';
import { tauBenchElements } from './tau-bench-sim.ts';
import type { AgentTask, GatewayTask } from './task-spec.ts';

/** What to generate. */
export interface CorpusOptions {
  /** Rows across the daily JSONL streams (the tau-bench array comes on top). */
  records: number;
  seed: number;
  /** First day, `YYYY-MM-DD` (UTC). */
  startDate: string;
  days: number;
}

/** A piece of output: text appended to a file under the output dir, or the end of a day's files. */
export type CorpusChunk =
  { type: 'text'; stream: Stream; path: string; text: string; rows: number } | { type: 'end-of-day' };

const BAD_EVERY = 80; // one deliberately bad row after every 80 good ones (~1.25%)
const CANARY_EVERY = 45; // one canary (fake secret / PII) every 45 runs
const HOUR = 3_600_000;

/**
 * The seeded corpus core: yields rows day by day, so the shell can stream them to disk. Pure
 * function of the options: no clock, no Math.random, no I/O.
 */
export function* generateCorpus(o: CorpusOptions): Generator<CorpusChunk> {
  yield* new CorpusBuilder(o).all();
}

class CorpusBuilder {
  private readonly rng: Rng;
  private readonly ids: IdMint;
  private readonly gatewayPool: number;
  private readonly agentPool: number;
  private readonly playbookVersions = new Map<string, number>();
  private readonly docRevisions = new Map<string, number>();
  private date = '';
  private dayRows = 0;
  private goodSinceBad = 0;
  private badIndex = 0;
  private runsSinceCanary = 0;
  private canaryIndex = 0;

  constructor(private readonly o: CorpusOptions) {
    this.rng = new Rng(mix32(o.seed ^ 0x5eed));
    this.ids = new IdMint(o.seed);
    this.gatewayPool = Math.max(30, Math.floor(o.records / 10));
    this.agentPool = Math.max(10, Math.floor(o.records / 40));
  }

  *all(): Generator<CorpusChunk> {
    for (let d = 0; d < this.o.days; d++) {
      yield* this.day(d);
      yield { type: 'end-of-day' };
    }
    yield* this.tauBench();
  }

  private *day(d: number): Generator<CorpusChunk> {
    const start = dayStart(this.o.startDate, d);
    this.date = isoDate(start);
    this.dayRows = 0;
    const target =
      Math.floor((this.o.records * (d + 1)) / this.o.days) - Math.floor((this.o.records * d) / this.o.days);
    const at = (): number => start + this.rng.int(18 * HOUR);
    for (let i = Math.round(target * 0.03); i > 0; i--)
      yield* this.emit('playbooks', playbookRow(this.rng, this.playbookVersions, at()));
    for (let i = Math.round(target * 0.03); i > 0; i--)
      yield* this.emit('knowledge_docs', knowledgeDocRow(this.rng, this.docRevisions, at()));
    for (let i = Math.round(target * 0.04); i > 0; i--)
      yield* this.emit(
        'preference_judgments',
        judgmentRow(this.gatewayTask(this.rng.int(this.gatewayPool)), this.rng),
      );
    while (this.dayRows < target) {
      const t0 = at();
      if (this.rng.chance(0.004)) yield* this.orphanSignal(t0);
      else if (this.rng.chance(0.25)) yield* this.agentSession(t0);
      else yield* this.gatewaySession(t0);
    }
  }

  /** A row of a stream, followed by a deliberately bad row every BAD_EVERY rows. */
  private *emit(stream: Stream, row: Record<string, unknown>): Generator<CorpusChunk> {
    yield this.text(stream, JSON.stringify(row));
    if (++this.goodSinceBad < BAD_EVERY) return;
    this.goodSinceBad = 0;
    const bad = BAD_ROW_KINDS[this.badIndex++ % BAD_ROW_KINDS.length]!;
    yield this.text(bad.stream, badRowText(bad, dayStart(this.date, 0) + 12 * HOUR, this.ids));
  }

  private text(stream: Stream, line: string): CorpusChunk {
    this.dayRows++;
    return { type: 'text', stream, path: `${stream}/${this.date}.jsonl`, text: `${line}\n`, rows: 1 };
  }

  /** Task `t` of the gateway pool: the same t always gives the same task (same prompt). */
  private gatewayTask(t: number): GatewayTask {
    const rng = new Rng(mix32((this.o.seed * 7) ^ mix32(t + 1)));
    switch (rng.weighted({ support: 32, coding: 26, sql: 22, summary: 20 })) {
      case 'support':
        return supportTask(rng, rng.chance(0.05) ? piiSentence(rng) : '');
      case 'coding':
        return codingTask(rng);
      case 'sql':
        return sqlTask(rng);
      case 'summary':
        return summaryTask(rng);
    }
  }

  private agentTask(t: number): AgentTask {
    const rng = new Rng(mix32((this.o.seed * 13) ^ mix32(t + 1)));
    switch (rng.weighted({ repo: 40, sql: 30, support: 30 })) {
      case 'repo':
        return repoFixerTask(rng);
      case 'sql':
        return sqlAnalystTask(rng);
      case 'support':
        return supportAgentTask(rng, rng.chance(0.05) ? piiSentence(rng) : '');
    }
  }

  private attempt(model: ModelChoice, plan: Plan, startMs: number, escalatedFrom: string | null): Attempt {
    const answer = answerKind(plan, this.rng);
    return {
      traceId: this.ids.next('tr_'),
      startMs,
      model,
      plan,
      answer,
      escalatedFrom,
      canary: answer === 'none' ? null : this.nextCanary(),
      selfLabel: this.rng.chance(0.03),
      extraField: this.rng.chance(0.02),
    };
  }

  private nextCanary(): CanaryKind | null {
    if (++this.runsSinceCanary < CANARY_EVERY) return null;
    this.runsSinceCanary = 0;
    return CANARY_KINDS[this.canaryIndex++ % CANARY_KINDS.length]!;
  }

  private *gatewaySession(t0: number): Generator<CorpusChunk> {
    const task = this.gatewayTask(this.rng.int(this.gatewayPool));
    const n = Number(this.rng.weighted({ 1: 45, 2: 30, 3: 17, 4: 8 }));
    let at = t0;
    for (let k = 0; k < n; k++) {
      const local = this.rng.chance(0.35);
      const model = local ? localModel(this.rng, task.family === 'coding') : cloudModel(this.rng);
      const first = this.attempt(model, drawPlan(this.rng, model.tier, false, task.checks), at, null);
      at = yield* this.gatewayAttempt(task, first);
      if (local && isFailing(first.plan) && this.rng.chance(0.75)) {
        // the gateway retries on a cloud model: new trace, same task, escalated_from = local trace
        const cloud = cloudModel(this.rng);
        const esc = this.attempt(
          cloud,
          drawPlan(this.rng, 'cloud', true, task.checks),
          at + this.rng.range(200, 5_000),
          first.traceId,
        );
        at = yield* this.gatewayAttempt(task, esc);
      }
      at += this.rng.range(60_000, 40 * 60_000);
    }
  }

  private *gatewayAttempt(task: GatewayTask, a: Attempt): Generator<CorpusChunk, number> {
    const built = gatewayRun(task, a, this.rng, this.ids);
    yield* this.emit('gateway_calls', built.row);
    yield* this.outcomes(built, a, task, 'llm-gateway');
    return built.endMs;
  }

  private *agentSession(t0: number): Generator<CorpusChunk> {
    const task = this.agentTask(this.rng.int(this.agentPool));
    const n = Number(this.rng.weighted({ 1: 50, 2: 35, 3: 15 }));
    let at = t0;
    for (let k = 0; k < n; k++) {
      const model = this.rng.chance(0.3)
        ? localModel(this.rng, task.agent === 'repo-fixer')
        : cloudModel(this.rng);
      const a = this.attempt(model, drawPlan(this.rng, model.tier, false, task.checks), at, null);
      const built = agentRun(task, a, this.rng);
      yield* this.emit('agent_trajectories', built.row);
      yield* this.outcomes(built, a, { ...task, good: task.good.final }, 'agent-runtime');
      at = built.endMs + this.rng.range(60_000, 30 * 60_000);
    }
  }

  private *outcomes(
    built: BuiltRun,
    a: Attempt,
    task: {
      good: string;
      checks: GatewayTask['checks'];
      suite: string | null;
      runner: string | null;
      environment: string | null;
    },
    service: string,
  ): Generator<CorpusChunk> {
    for (const e of built.exits) {
      yield* this.emit('tool_outcomes', {
        trace_id: a.traceId,
        timestamp: new Date(e.atMs).toISOString(),
        tool: e.tool,
        command: e.command,
        exit_code: e.exitCode,
      });
    }
    const signals = signalRows(
      {
        traceId: a.traceId,
        endMs: built.endMs,
        plan: a.plan,
        checks: task.checks,
        correctedAnswer: task.good,
        suite: task.suite,
        runner: task.runner,
        environment: task.environment,
        service,
      },
      this.rng,
      this.ids,
    );
    for (const s of signals) yield* this.emit(s.stream, s.row);
  }

  /** A review whose run never reached the logs (the scorer must cope with signals without a run). */
  private *orphanSignal(t0: number): Generator<CorpusChunk> {
    yield* this.emit('human_reviews', {
      review_id: this.ids.next('rv_'),
      trace_id: this.ids.next('tr_'),
      timestamp: new Date(t0).toISOString(),
      reviewer: 'a.haddad',
      decision: 'approve',
    });
  }

  private *tauBench(): Generator<CorpusChunk> {
    const tasks = Math.min(400, Math.max(4, Math.round(this.o.records / 200)));
    const path = 'tau_bench/synthetic-airline.json';
    yield { type: 'text', stream: 'tau_bench', path, text: '[\n', rows: 0 };
    let first = true;
    for (const el of tauBenchElements(this.rng.fork(0x7a0), tasks, 4)) {
      yield {
        type: 'text',
        stream: 'tau_bench',
        path,
        text: `${first ? '' : ',\n'}${JSON.stringify(el)}`,
        rows: 1,
      };
      first = false;
    }
    yield { type: 'text', stream: 'tau_bench', path, text: '\n]\n', rows: 0 };
  }
}
