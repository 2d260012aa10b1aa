import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';
import { ExportResultCode, parseTraceParent, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, type IdGenerator, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION, ATTR_USER_AGENT_ORIGINAL } from '@opentelemetry/semantic-conventions';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { LoadedConfig } from '../config/load.js';
import { resolveSecret } from '../config/secrets.js';
import type { Provider } from '../providers/types.js';
import type { Runtime } from '../server/runtime.js';
import { VERSION } from '../server/version.js';
import type { LogRow } from './log-row.js';

/**
 * OpenTelemetry trace export: one SERVER span per finished request, built from its log row after
 * the fact (never on the request path) and sent over OTLP/HTTP (JSON) in batches. Attributes follow
 * the GenAI semantic conventions where they have a name; the rest are `gatehouse.*`. Like the
 * metrics, spans carry no key secret and no body.
 */

/** `observability.otlp` with its header secrets resolved. */
export interface OtlpSettings {
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
}

/** Resolved once at start; an unresolvable header stops the start, as the webhook secret does. */
export function otlpSettings(loaded: LoadedConfig, env: NodeJS.ProcessEnv): OtlpSettings | undefined {
  const otlp = loaded.config.observability.otlp;
  if (!otlp) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, ref] of Object.entries(otlp.headers ?? {})) {
    const r = resolveSecret(ref, loaded.dir, env);
    if (!r.ok) throw new Error(`observability.otlp.headers.${name} (${ref}) cannot be resolved: ${r.missing}`);
    headers[name] = r.value;
  }
  return { endpoint: otlp.endpoint, headers, serviceName: otlp.service_name };
}

// The GenAI names are still incubating (their constants in @opentelemetry/semantic-conventions are
// deprecated pending a package of their own), so they are spelt out here, as that package advises.
const GEN_AI_SYSTEM = 'gen_ai.system';
const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
const GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';

const GEN_AI_PROVIDERS: Record<Provider['kind'], string> = { anthropic: 'anthropic', bedrock: 'aws.bedrock', vertex: 'gcp.vertex_ai' };

/** The span's attributes; `kind` is the kind of the provider that answered, if one did. */
export function spanAttributes(row: LogRow, kind: Provider['kind'] | undefined): Attributes {
  const system = GEN_AI_PROVIDERS[kind ?? 'anthropic'];
  const failed = row.status >= 400 || row.outcome === 'upstream_failed';
  const attrs: Attributes = {
    // Both names: `gen_ai.system` is what most backends read today, `gen_ai.provider.name` replaces it.
    [GEN_AI_SYSTEM]: system,
    [GEN_AI_PROVIDER_NAME]: system,
    // The conventions count every input token, cached ones included; Anthropic's input_tokens does not.
    [GEN_AI_USAGE_INPUT_TOKENS]: row.input_tokens + row.cache_read_input_tokens + row.cache_creation_input_tokens,
    [GEN_AI_USAGE_OUTPUT_TOKENS]: row.output_tokens,
    [GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: row.cache_read_input_tokens,
    [GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: row.cache_creation_input_tokens,
    [ATTR_HTTP_RESPONSE_STATUS_CODE]: row.status,
    'gatehouse.request_id': row.id,
    'gatehouse.endpoint': row.endpoint,
    'gatehouse.stream': row.stream,
    'gatehouse.outcome': row.outcome,
    'gatehouse.retries': row.retries,
    'gatehouse.usage_final': row.usage_final,
  };
  // Counting tokens and listing models are not GenAI operations the conventions name.
  if (row.endpoint === 'messages') attrs[GEN_AI_OPERATION_NAME] = 'chat';
  const known: Record<string, string | number | null> = {
    [GEN_AI_REQUEST_MODEL]: row.model,
    [GEN_AI_RESPONSE_MODEL]: row.served_model,
    // Claude Code's session is the conventions' conversation.
    [GEN_AI_CONVERSATION_ID]: row.session_id,
    [ATTR_ERROR_TYPE]: failed ? (row.error_type ?? String(row.status)) : null,
    [ATTR_USER_AGENT_ORIGINAL]: row.user_agent,
    'gatehouse.trace_id': row.trace_id,
    'gatehouse.session_id': row.session_id,
    'gatehouse.workspace': row.workspace,
    'gatehouse.key_id': row.key_id,
    'gatehouse.key_name': row.key_name,
    'gatehouse.provider': row.provider,
    'gatehouse.upstream_request_id': row.upstream_request_id,
    'gatehouse.route_path': row.route_path,
    'gatehouse.cache_status': row.cache_status,
    'gatehouse.error_code': row.error_code,
    // Absent, never 0, when the model has no price.
    'gatehouse.cost_usd': row.cost_usd,
    'gatehouse.ttft_ms': row.ttft_ms,
  };
  for (const [name, value] of Object.entries(known)) if (value !== null) attrs[name] = value;
  if (row.guardrails.length > 0) {
    attrs['gatehouse.guardrail.ids'] = row.guardrails.map((g) => g.id);
    attrs['gatehouse.guardrail.actions'] = row.guardrails.map((g) => g.action);
  }
  for (const [field, value] of Object.entries(row.metadata)) attrs[`gatehouse.metadata.${field}`] = value;
  return attrs;
}

/** All requests sent with one `x-portkey-trace-id` share a trace: the first 16 bytes of its SHA-256. */
export function derivedTraceId(traceId: string): string {
  return createHash('sha256').update(traceId).digest('hex').slice(0, 32);
}

/**
 * A root span takes its trace id from the provider's id generator, so a derived trace is begun by
 * handing the generator that id for the one span being started. The alternative, a made-up remote
 * parent, would leave every such span pointing at a parent no backend ever receives.
 */
class TraceIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  #next: string | undefined;

  /** Runs `start` (a synchronous `startSpan`) so that a trace it begins gets `traceId`. */
  within<T>(traceId: string, start: () => T): T {
    this.#next = traceId;
    try {
      return start();
    } finally {
      this.#next = undefined;
    }
  }

  generateTraceId(): string {
    return this.#next ?? this.#random.generateTraceId();
  }

  generateSpanId(): string {
    return this.#random.generateSpanId();
  }
}

/** The SDK reports export failures nowhere by default; this says when they start and stop. */
class ReportingExporter implements SpanExporter {
  #failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly log: FastifyBaseLogger,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      const ok = result.code === ExportResultCode.SUCCESS;
      if (!ok && !this.#failing) this.log.warn({ err: result.error, spans: spans.length }, 'otlp: the collector refused or missed spans; retrying with later batches');
      if (ok && this.#failing) this.log.info('otlp: spans are reaching the collector again');
      this.#failing = !ok;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Starts the export when `observability.otlp` is set: subscribes to the runtime's `logs` events
 * for the life of the app, and on close sends what is still queued before shutting down.
 */
export function otlpExport(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    const settings = rt.otlp;
    if (!settings) return;
    const ids = new TraceIds();
    const exporter = new OTLPTraceExporter({ url: settings.endpoint, headers: settings.headers });
    const provider = new BasicTracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: VERSION })),
      idGenerator: ids,
      // Every request is exported: a client's "not sampled" flag does not hide it from the gateway's operator.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor(new ReportingExporter(exporter, app.log))],
    });
    const tracer = provider.getTracer('gatehouse', VERSION);

    const exportRow = (row: LogRow): void => {
      const start = Date.parse(row.created_at);
      const remote = row.traceparent === undefined ? null : parseTraceParent(row.traceparent);
      const parent: Context | undefined = remote && trace.isSpanContextValid(remote) ? trace.setSpanContext(ROOT_CONTEXT, { ...remote, isRemote: true }) : undefined;
      const options = { kind: SpanKind.SERVER, startTime: start, attributes: spanAttributes(row, rt.providers.get(row.provider ?? '')?.kind) };
      const name = `gatehouse ${row.endpoint}`;
      const span = parent ? tracer.startSpan(name, options, parent) : ids.within(derivedTraceId(row.trace_id ?? row.id), () => tracer.startSpan(name, options, ROOT_CONTEXT));
      if (row.status >= 400 || row.outcome === 'upstream_failed') span.setStatus({ code: SpanStatusCode.ERROR, message: row.error_message ?? `HTTP ${row.status}` });
      span.end(start + row.latency_ms);
    };
    // A listener that throws would surface inside the log writer (as rows not stored), so an
    // export bug is logged here and goes no further.
    const onLogs = (rows: readonly LogRow[]): void => {
      try {
        for (const row of rows) exportRow(row);
      } catch (err) {
        app.log.error({ err }, 'otlp: could not export a request span');
      }
    };
    rt.events.on('logs', onLogs);
    app.addHook('onClose', async () => {
      rt.events.off('logs', onLogs);
      await provider.shutdown();
    });
  };
}
