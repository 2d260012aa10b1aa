import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { request, type Dispatcher } from 'undici';
import type { SpendStore } from '../store/types.js';
import { formatAmount, type Meter, type MeterState } from './budgets.js';

/**
 * Budget alerts: when spend crosses a threshold (50 %, 80 %, 100 % by default) an alert goes out
 * once per budget, period and threshold (the store remembers, so a restart does not repeat it),
 * as an event for live listeners and as a webhook that is retried with backoff until it is taken.
 * Delivery is off the request path: nothing a webhook does can slow or fail a request.
 */

export interface BudgetAlert {
  type: 'budget.threshold';
  scope: string;
  label: string;
  unit: 'usd' | 'tokens';
  threshold: number;
  spent: number;
  limit: number;
  period: string;
  period_start: string;
  period_end: string | null;
  at: string;
  message: string;
}

export interface WebhookConfig {
  url: string;
  secret?: string;
  max_attempts: number;
  retry_base_ms: number;
}

export interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const MAX_DELAY_MS = 5 * 60_000;

export class Alerts {
  /** `alert` events carry a BudgetAlert. */
  readonly events = new EventEmitter();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(
    private readonly store: SpendStore,
    private readonly webhook: WebhookConfig | undefined,
    private readonly agent: Dispatcher,
    private log: Logger,
  ) {}

  /** Alerts are logged through the server's logger once it exists. */
  useLogger(log: Logger): void {
    this.log = log;
  }

  /** The budgets' threshold listener. */
  readonly crossed = (m: Meter, s: MeterState, threshold: number): void => {
    const at = new Date().toISOString();
    void this.store
      .claimAlert(m.scope, m.unit, s.window.key, threshold, at)
      .then((first) => {
        if (!first) return;
        const alert: BudgetAlert = {
          type: 'budget.threshold',
          scope: m.scope,
          label: m.label,
          unit: m.unit,
          threshold,
          spent: s.spent,
          limit: m.limit,
          period: s.window.key,
          period_start: new Date(s.window.start).toISOString(),
          period_end: s.window.end === null ? null : new Date(s.window.end).toISOString(),
          at,
          message: `${m.label} has used ${threshold}% of its budget: ${formatAmount(m.unit, s.spent)} of ${formatAmount(m.unit, m.limit)} (${s.window.key}).`,
        };
        this.log.info({ alert }, alert.message);
        this.events.emit('alert', alert);
        if (this.webhook) this.#deliver(this.webhook, alert, 1);
      })
      .catch((e: unknown) => this.log.warn({ err: e }, 'could not record a budget alert'));
  };

  #deliver(hook: WebhookConfig, alert: BudgetAlert, attempt: number): void {
    if (this.#closed) return;
    const body = JSON.stringify(alert);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'gatehouse-alerts', 'x-gatehouse-delivery-attempt': String(attempt) };
    if (hook.secret) headers['x-gatehouse-signature'] = 'sha256=' + createHmac('sha256', hook.secret).update(body).digest('hex');
    const retry = (why: string) => {
      if (attempt >= hook.max_attempts) {
        this.log.warn({ url: hook.url, attempt, why }, `budget alert webhook gave up after ${attempt} attempts`);
        return;
      }
      const delay = Math.min(MAX_DELAY_MS, hook.retry_base_ms * 2 ** (attempt - 1));
      const t = setTimeout(() => {
        this.#timers.delete(t);
        this.#deliver(hook, alert, attempt + 1);
      }, delay);
      t.unref();
      this.#timers.add(t);
    };
    request(hook.url, { method: 'POST', headers, body, dispatcher: this.agent, headersTimeout: 10_000, bodyTimeout: 10_000 })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        // A 4xx other than 408/429 will not change on retry: the receiver refuses this alert.
        if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429) {
          this.log.warn({ url: hook.url, status: res.statusCode }, 'budget alert webhook refused the alert');
          return;
        }
        retry(`HTTP ${res.statusCode}`);
      })
      .catch((e: unknown) => retry(e instanceof Error ? e.message : String(e)));
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
