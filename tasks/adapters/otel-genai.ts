import type { Adapter, AdapterOutput, EvidenceDraft } from './adapter.ts';
import { evaluatorSignal } from './outcome-labels.ts';
import { attributeMap, nanosToMs } from './otel-attributes.ts';
import {
  Conversation,
  currentConventions,
  eventConventions,
  indexedConventions,
  isContentEvent,
  toolDefinitions,
} from './otel-messages.ts';
import { mergeFlags } from './row-flags.ts';
import { taskKeyFor } from './task-key.ts';

/** Operations whose spans are one model call (a run); agent, tool and embedding spans are not. */
const INFERENCE_OPS = new Set(['chat', 'text_completion', 'generate_content']);
const HEX = /^[0-9a-fA-F]+$/;
const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

interface SpanAt {
  span: Record<string, unknown>;
  path: string;
}

/** Every span of an ExportTraceServiceRequest, with its JSON path (legacy `instrumentationLibrarySpans` too). */
function spansOf(row: Record<string, unknown>): SpanAt[] {
  const out: SpanAt[] = [];
  const rs = Array.isArray(row.resourceSpans) ? row.resourceSpans : [];
  rs.forEach((r, i) => {
    if (!isObj(r)) return;
    const key = Array.isArray(r.scopeSpans) ? 'scopeSpans' : 'instrumentationLibrarySpans';
    const scopes = Array.isArray(r[key]) ? (r[key] as unknown[]) : [];
    scopes.forEach((s, j) => {
      if (!isObj(s) || !Array.isArray(s.spans)) return;
      s.spans.forEach((sp, k) =>
        out.push({
          span: sp as Record<string, unknown>,
          path: `$.resourceSpans[${i}].${key}[${j}].spans[${k}]`,
        }),
      );
    });
  });
  return out;
}

const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** STATUS_CODE_ERROR, written as 2 or as its enum name. */
function isErrorStatus(status: unknown): boolean {
  return isObj(status) && (status.code === 2 || status.code === 'STATUS_CODE_ERROR');
}

/**
 * OpenTelemetry GenAI spans (OTLP/JSON, one ExportTraceServiceRequest per line as the collector's
 * file exporter writes it) → one run per model-call span (`gen_ai.operation.name` chat /
 * text_completion / generate_content, or content attributes without an operation name), with
 * trace id `otel:<traceId>:<spanId>`, plus one signal per `gen_ai.evaluation.result` event on it.
 * Agent, tool and embedding spans and spans recorded without content are skipped (flag
 * `spans_skipped`); a line with no model call holding content drops as NO_CONVERSATION.
 */
export const otelGenai: Adapter = {
  name: 'otel-genai',
  description:
    'OpenTelemetry GenAI spans as OTLP/JSON (collector file exporter: one ExportTraceServiceRequest per line); current and older gen_ai conventions',
  shape: 'jsonl',
  sniff(row) {
    if (!Array.isArray(row.resourceSpans))
      return { confidence: 0, reason: 'no resourceSpans (not an OTLP trace export)' };
    const spans = spansOf(row).slice(0, 50);
    const genai = spans.some(({ span }) => {
      if (!isObj(span)) return false;
      const keys = Array.isArray(span.attributes)
        ? span.attributes.map((a) => (isObj(a) ? a.key : null))
        : [];
      const events = Array.isArray(span.events) ? span.events.map((e) => (isObj(e) ? e.name : null)) : [];
      return [...keys, ...events].some((k) => typeof k === 'string' && k.startsWith('gen_ai.'));
    });
    return genai
      ? { confidence: 1, reason: 'OTLP trace export (resourceSpans) with gen_ai.* attributes' }
      : {
          confidence: 0.5,
          reason: 'OTLP trace export (resourceSpans), but no gen_ai.* attribute or event in its first spans',
        };
  },
  toEvidence(row): AdapterOutput {
    if (!Array.isArray(row.resourceSpans)) {
      return {
        type: 'drop',
        reason: row.resourceSpans === undefined ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_TYPE',
        detail: '$.resourceSpans: expected the list of an OTLP ExportTraceServiceRequest',
      };
    }
    const spans = spansOf(row);
    const drafts: EvidenceDraft[] = [];
    const skipped: Record<string, number> = {};
    const lineFlags = new Set<string>();
    for (const { span, path } of spans) {
      if (!isObj(span))
        return { type: 'drop', reason: 'SCHEMA_TYPE', detail: `${path}: expected a span object` };
      for (const k of ['traceId', 'spanId'] as const) {
        const v = span[k];
        if (typeof v !== 'string' || v === '' || !HEX.test(v)) {
          return {
            type: 'drop',
            reason: v === undefined ? 'SCHEMA_MISSING_FIELD' : 'SCHEMA_TYPE',
            detail: `${path}.${k}: expected a hex id string, got ${JSON.stringify(v)}`,
          };
        }
      }
      const attrs = attributeMap(span.attributes);
      const events = (Array.isArray(span.events) ? span.events : []).map((e, i) => ({
        name: isObj(e) && typeof e.name === 'string' ? e.name : '',
        attrs: attributeMap(isObj(e) ? e.attributes : undefined),
        time: isObj(e) ? nanosToMs(e.timeUnixNano) : null,
        path: `${path}.events[${i}]`,
      }));
      const op = str(attrs['gen_ai.operation.name']);
      const hasCurrent =
        attrs['gen_ai.input.messages'] !== undefined || attrs['gen_ai.output.messages'] !== undefined;
      const contentEvents = events.filter((e) => isContentEvent(e.name));
      const hasIndexed = Object.keys(attrs).some((k) => /^gen_ai\.(prompt|completion)\.\d+\./.test(k));
      const inference =
        op !== null ? INFERENCE_OPS.has(op) : hasCurrent || contentEvents.length > 0 || hasIndexed;
      if (!inference) {
        const label = op ?? 'non-GenAI';
        skipped[label] = (skipped[label] ?? 0) + 1;
        continue;
      }
      const conv = new Conversation();
      const attrPath = `${path}.attributes`;
      const read = hasCurrent
        ? currentConventions(conv, attrs, attrPath)
        : contentEvents.length > 0
          ? eventConventions(conv, contentEvents)
          : indexedConventions(conv, attrs, attrPath);
      if (!read.ok) return { type: 'drop', ...read.drop };
      if (conv.messages.length === 0) {
        skipped['without content'] = (skipped['without content'] ?? 0) + 1;
        continue;
      }
      const tools = toolDefinitions(
        attrs['gen_ai.tool.definitions'],
        `${attrPath}["gen_ai.tool.definitions"]`,
      );
      if (!tools.ok) return { type: 'drop', ...tools.drop };
      const traceId = `otel:${String(span.traceId).toLowerCase()}:${String(span.spanId).toLowerCase()}`;
      const start = nanosToMs(span.startTimeUnixNano);
      const end = nanosToMs(span.endTimeUnixNano);
      const reasons = attrs['gen_ai.response.finish_reasons'];
      const finish = Array.isArray(reasons) && typeof reasons[0] === 'string' ? reasons[0] : read.value;
      const input = num(attrs['gen_ai.usage.input_tokens']) ?? num(attrs['gen_ai.usage.prompt_tokens']);
      const output = num(attrs['gen_ai.usage.output_tokens']) ?? num(attrs['gen_ai.usage.completion_tokens']);
      const errorType = str(attrs['error.type']);
      const status = isObj(span.status) ? span.status : {};
      const failed = isErrorStatus(span.status) || errorType !== null;
      const spanFlags = [...conv.flags];
      const runDraft: EvidenceDraft = {
        kind: 'run',
        trace_id: traceId,
        task_key: taskKeyFor(null, conv.messages),
        recorded_at: start,
        flags: spanFlags,
        run: {
          messages: conv.messages,
          tools: tools.value,
          model: str(attrs['gen_ai.response.model']) ?? str(attrs['gen_ai.request.model']),
          provider: str(attrs['gen_ai.provider.name']) ?? str(attrs['gen_ai.system']),
          tier: 'unknown',
          usage:
            input !== null && output !== null ? { prompt_tokens: input, completion_tokens: output } : null,
          latency_ms: start !== null && end !== null && end >= start ? end - start : null,
          finish_reason: finish,
          error: failed
            ? {
                type: errorType ?? 'error',
                message: str(status.message) ?? errorType ?? 'span status is ERROR',
                status: num(attrs['http.response.status_code']),
              }
            : null,
          escalated_from: null,
        },
      };
      drafts.push(runDraft);
      for (const e of events) {
        if (e.name !== 'gen_ai.evaluation.result') continue;
        if (str(e.attrs['error.type']) !== null) {
          lineFlags.add('evaluation_failed_skipped');
          continue;
        }
        const name = str(e.attrs['gen_ai.evaluation.name']) ?? 'evaluation';
        const value = e.attrs['gen_ai.evaluation.score.value'];
        const mapped = evaluatorSignal({
          name,
          value: typeof value === 'number' || typeof value === 'boolean' ? value : null,
          label: str(e.attrs['gen_ai.evaluation.score.label']),
          comment: str(e.attrs['gen_ai.evaluation.explanation']),
          by: null,
          correction: null,
          source: `otel:${name}`,
        });
        if (!mapped.ok) {
          lineFlags.add('evaluation_unmappable_skipped');
          continue;
        }
        drafts.push({
          kind: 'signal',
          trace_id: traceId,
          task_key: null,
          recorded_at: e.time ?? start,
          flags: [],
          signal: mapped.signal,
        });
      }
    }
    const skippedText = Object.entries(skipped)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ');
    if (drafts.length === 0) {
      return {
        type: 'drop',
        reason: 'NO_CONVERSATION',
        detail: `none of the ${spans.length} spans is a GenAI model call with message content${skippedText ? ` (skipped: ${skippedText})` : ''}; enable content capture in the instrumentation (e.g. OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)`,
      };
    }
    if (skippedText) lineFlags.add('spans_skipped');
    return {
      type: 'keep',
      records: drafts.map((d) => ({ ...d, flags: mergeFlags(d.flags ?? [], [...lineFlags]) })),
    };
  },
};
