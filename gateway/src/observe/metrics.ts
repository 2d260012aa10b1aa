import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { budgetView, keyAndWorkspaceMeters } from '../api/budgets.js';
import type { BudgetAlert, Logger } from '../governance/alerts.js';
import { adminAuth } from '../server/auth.js';
import type { Runtime } from '../server/runtime.js';
import type { BudgetView } from '../api/schemas.js';
import type { LogRow, RequestStart } from './log-row.js';

/**
 * Prometheus metrics, fed from the runtime's events (never from the request path): a stored log
 * row is a finished request, whatever its outcome. Labels stay low-cardinality: config-bounded
 * values (provider, workspace, guardrail), fixed sets (endpoint, outcome, status), and never a
 * metadata value or a secret. Gauges that describe state (budgets, circuits, in flight) are read
 * at scrape time, so they cannot drift from the ledger they mirror. A ledger that cannot be read
 * (Redis down) leaves the budget gauges out, with `gatehouse_budget_state_up 0`, rather than
 * failing the scrape: the request metrics matter most during exactly such an outage.
 */

// 1 ms .. 10 min: a cache hit or a refusal at the low end, the longest stream `first_byte_ms` allows at the top.
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600];
const ENDPOINTS = new Set(['messages', 'count_tokens', 'models']);
/**
 * The model label is what a client typed when the request never reached a provider, so a key
 * holder could mint series at will; past this many distinct names the rest are `other`.
 */
const MAX_MODELS = 200;
const NONE = 'none';
const quiet: Pick<Logger, 'warn'> = { warn: () => undefined };

/** One gateway's metrics; a registry of its own, so several gateways can share a process (tests). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #inflight = new Set<string>();
  readonly #models = new Set<string>();
  readonly #requests: Counter<'endpoint' | 'provider' | 'model' | 'status' | 'outcome' | 'workspace'>;
  readonly #duration: Histogram<'endpoint' | 'provider' | 'stream'>;
  readonly #ttft: Histogram<'provider' | 'model'>;
  readonly #upstreamErrors: Counter<'provider' | 'error_code'>;
  readonly #tokens: Counter<'provider' | 'model' | 'kind'>;
  readonly #cost: Counter<'provider' | 'model' | 'workspace'>;
  readonly #unpriced: Counter<'model'>;
  readonly #verdicts: Counter<'guardrail' | 'action'>;
  readonly #alerts: Counter<'unit' | 'threshold'>;
  /** The budget read of the scrape under way, shared by the gauges that report it. */
  #budgetRead: Promise<BudgetView[] | undefined> | undefined;
  /** Set while budgets cannot be read, so the cause is logged once, not once per scrape. */
  #budgetsFailing = false;

  constructor(
    private readonly rt: Runtime,
    private readonly log: Pick<Logger, 'warn'> = quiet,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({ name: 'gatehouse_requests_total', help: 'Requests to the Anthropic surface, by how they ended.', labelNames: ['endpoint', 'provider', 'model', 'status', 'outcome', 'workspace'], registers });
    this.#duration = new Histogram({ name: 'gatehouse_request_duration_seconds', help: 'From the request arriving to its last byte.', labelNames: ['endpoint', 'provider', 'stream'], buckets: DURATION_BUCKETS, registers });
    this.#ttft = new Histogram({ name: 'gatehouse_time_to_first_token_seconds', help: 'From the request arriving to the first byte of the response body.', labelNames: ['provider', 'model'], buckets: TTFT_BUCKETS, registers });
    this.#upstreamErrors = new Counter({ name: 'gatehouse_upstream_errors_total', help: 'Provider failures: routing gave up, or the provider answered 5xx.', labelNames: ['provider', 'error_code'], registers });
    this.#tokens = new Counter({ name: 'gatehouse_tokens_total', help: 'Tokens as the provider reported them.', labelNames: ['provider', 'model', 'kind'], registers });
    this.#cost = new Counter({ name: 'gatehouse_cost_usd_total', help: 'Spend in USD, of priced requests.', labelNames: ['provider', 'model', 'workspace'], registers });
    this.#unpriced = new Counter({ name: 'gatehouse_unpriced_requests_total', help: 'Requests whose model has no price (their cost is unknown, not $0).', labelNames: ['model'], registers });
    this.#verdicts = new Counter({ name: 'gatehouse_guardrail_verdicts_total', help: 'Guardrails that matched, by the action taken.', labelNames: ['guardrail', 'action'], registers });
    this.#alerts = new Counter({ name: 'gatehouse_budget_alerts_total', help: 'Budget threshold alerts sent.', labelNames: ['unit', 'threshold'], registers });

    const inflight = this.#inflight;
    new Gauge({
      name: 'gatehouse_inflight_requests',
      help: 'Requests that have started and have no log row yet.',
      registers,
      collect() {
        this.set(inflight.size);
      },
    });
    new Gauge({
      name: 'gatehouse_circuit_open',
      help: '1 while a provider is skipped by its circuit breaker, else 0.',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const slug of rt.providers.keys()) this.set({ provider: slug }, 0);
        for (const c of rt.circuits.states()) this.set({ provider: c.slug }, c.state === 'open' ? 1 : 0);
      },
    });
    const budgets = () => this.#budgets();
    new Gauge({
      name: 'gatehouse_budget_remaining',
      help: 'What a key or workspace budget has left this period (USD or tokens), requests in flight deducted. Absent while gatehouse_budget_state_up is 0.',
      labelNames: ['scope', 'unit', 'period'],
      registers,
      async collect() {
        const views = await budgets();
        // Reset first: a revoked key's budget leaves the output instead of staying at its last value.
        this.reset();
        for (const v of views ?? []) this.set({ scope: v.scope, unit: v.unit, period: v.period }, v.remaining);
      },
    });
    new Gauge({
      name: 'gatehouse_budget_state_up',
      help: '1 when this scrape could read the budget ledger, 0 when it could not (Redis or the store unreachable) and the budget gauges are left out.',
      registers,
      async collect() {
        this.set((await budgets()) ? 1 : 0);
      },
    });
  }

  /**
   * prom-client collects every metric of a scrape at once, so the two budget gauges share one
   * read; it is dropped when done, and the next scrape reads afresh. Undefined when the ledger
   * or the store cannot be read.
   */
  #budgets(): Promise<BudgetView[] | undefined> {
    return (this.#budgetRead ??= this.#readBudgets().finally(() => (this.#budgetRead = undefined)));
  }

  async #readBudgets(): Promise<BudgetView[] | undefined> {
    const now = Date.now();
    try {
      const views = await Promise.all((await keyAndWorkspaceMeters(this.rt)).map((m) => budgetView(this.rt, m, now)));
      this.#budgetsFailing = false;
      return views;
    } catch (e) {
      if (!this.#budgetsFailing) this.log.warn({ err: String(e) }, 'metrics: budgets cannot be read; their gauges are left out until they can');
      this.#budgetsFailing = true;
      return undefined;
    }
  }

  started(s: RequestStart): void {
    this.#inflight.add(s.id);
  }

  stored(rows: readonly LogRow[]): void {
    for (const row of rows) this.#row(row);
  }

  alert(a: BudgetAlert): void {
    this.#alerts.inc({ unit: a.unit, threshold: String(a.threshold) });
  }

  #row(row: LogRow): void {
    // Rows refused before the handler ran (a 401) never started: nothing to take off.
    this.#inflight.delete(row.id);
    const provider = row.provider ?? NONE;
    const model = this.#model(row.served_model ?? row.model);
    const workspace = row.workspace ?? NONE;
    const endpoint = ENDPOINTS.has(row.endpoint) ? row.endpoint : 'other';
    this.#requests.inc({ endpoint, provider, model, status: String(row.status), outcome: row.outcome, workspace });
    this.#duration.observe({ endpoint, provider, stream: String(row.stream) }, row.latency_ms / 1000);
    if (row.ttft_ms !== null) this.#ttft.observe({ provider, model }, row.ttft_ms / 1000);
    if (row.outcome === 'upstream_failed' || (row.status >= 500 && row.provider !== null)) {
      this.#upstreamErrors.inc({ provider, error_code: row.error_code ?? `http_${row.status}` });
    }
    const tokens = { input: row.input_tokens, output: row.output_tokens, cache_read: row.cache_read_input_tokens, cache_write: row.cache_creation_input_tokens };
    // Zero is skipped so refusals (no provider, no usage) do not add empty series.
    for (const [kind, n] of Object.entries(tokens)) if (n > 0) this.#tokens.inc({ provider, model, kind }, n);
    if (row.cost_usd === null) this.#unpriced.inc({ model });
    else if (row.cost_usd > 0) this.#cost.inc({ provider, model, workspace }, row.cost_usd);
    for (const g of row.guardrails) this.#verdicts.inc({ guardrail: g.id, action: g.action });
  }

  #model(name: string | null): string {
    if (name === null) return NONE;
    if (this.#models.has(name)) return name;
    if (this.#models.size >= MAX_MODELS) return 'other';
    this.#models.add(name);
    return name;
  }
}

/**
 * `GET /metrics` in Prometheus' text format, behind the admin key unless `server.metrics_public`.
 * Subscribes to the runtime's events for the life of the app.
 */
export function metricsRoute(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    const metrics = new GatewayMetrics(rt, app.log);
    // A listener that throws would surface inside the emitter (the log writer would report its
    // rows as unstored), so a metrics bug is logged here and goes no further.
    const guard =
      <T>(f: (v: T) => void) =>
      (v: T): void => {
        try {
          f(v);
        } catch (err) {
          app.log.error({ err }, 'metrics: could not record an event');
        }
      };
    const onStart = guard((s: RequestStart) => metrics.started(s));
    const onLogs = guard((rows: readonly LogRow[]) => metrics.stored(rows));
    const onAlert = guard((a: BudgetAlert) => metrics.alert(a));
    rt.events.on('request.start', onStart).on('logs', onLogs).on('alert', onAlert);
    app.addHook('onClose', async () => {
      rt.events.off('request.start', onStart).off('logs', onLogs).off('alert', onAlert);
    });

    const onRequest = rt.config.server.metrics_public ? [] : [adminAuth(rt)];
    app.get('/metrics', { onRequest }, async (_req, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  };
}
