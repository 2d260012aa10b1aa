import { setTimeout as sleep } from 'node:timers/promises';
import type { InboundCall, Provider } from '../providers/types.js';
import { dispatch, type Pending } from '../proxy/forward.js';
import type { Timeouts } from '../proxy/upstream.js';
import { GatewayError, errors } from '../wire/errors.js';
import { RequestBody } from '../wire/request-body.js';
import type { Dispatcher } from 'undici';
import type { Circuits } from './circuit.js';
import { matches, type QueryData } from './conditions.js';
import type { RouteNode } from './config-schema.js';

/**
 * Walks a routing config for one request: `single`, `fallback`, `loadbalance` and `conditional`
 * nodes, nested to any depth, with the inheritance of `override_params` (merged, child wins),
 * `retry` (replaced) and `request_timeout` (inherited unless set). Every attempt ends before a
 * byte reaches the client, so falling back or retrying can never duplicate a stream.
 */

/** What decides fallback and retry by default: overload, rate limits, server and network errors. Never other 4xx. */
export const DEFAULT_RETRYABLE = [429, 500, 502, 503, 504, 529];
const MAX_BACKOFF_MS = 8_000;
/** A retry-after longer than this is not waited for; the failure goes back to the client. */
const MAX_RETRY_AFTER_MS = 30_000;

interface Inherited {
  override_params: Record<string, unknown>;
  retry: RouteNode['retry'];
  request_timeout: number | undefined;
}

export type Failure = { status: number; pending: Pending; error?: undefined } | { status: number; error: GatewayError; pending?: undefined };

export type Outcome = { ok: true; pending: Pending; path: string; retries: number } | { ok: false; failure: Failure; path: string; retries: number };

export interface ExecuteContext {
  providers: ReadonlyMap<string, Provider>;
  agent: Dispatcher;
  timeouts: Timeouts;
  signal: AbortSignal;
  call: InboundCall;
  query: QueryData;
  /** For targets that name no provider. */
  defaultProvider: string | undefined;
  circuits: Circuits;
  /** Called for every attempt (the log and metrics will hang here). */
  onAttempt?(a: { path: string; slug: string; status: number; retry: number }): void;
}

function retryAfterMs(p: Pending | undefined): number | undefined {
  const h = p?.headers['retry-after-ms'] ?? p?.headers['retry-after'];
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) return undefined;
  return p?.headers['retry-after-ms'] !== undefined ? n : n * 1000;
}

async function attemptLeaf(node: RouteNode, inh: Inherited, path: string, ctx: ExecuteContext): Promise<Outcome> {
  const slug = node.provider?.replace(/^@/, '') ?? ctx.defaultProvider;
  if (slug === undefined) throw errors.noProvider([...ctx.providers.keys()]);
  const retry = inh.retry;
  const codes = retry?.on_status_codes ?? DEFAULT_RETRYABLE;
  const attempts = retry?.attempts ?? 0;
  for (let n = 0; ; n++) {
    let failure: Failure;
    try {
      const provider = ctx.providers.get(slug);
      if (!provider) throw errors.unknownProvider(slug, [...ctx.providers.keys()]);
      if (provider.unavailable !== undefined) throw errors.providerNotConfigured(slug, provider.unavailable);
      const body = Object.keys(inh.override_params).length ? (RequestBody.scan(ctx.call.body.edit([], inh.override_params)) as RequestBody) : ctx.call.body;
      const up = await provider.prepare({ ...ctx.call, body });
      const pending = await dispatch(up, { slug, agent: ctx.agent, timeouts: ctx.timeouts, signal: ctx.signal, firstByteMs: inh.request_timeout });
      ctx.onAttempt?.({ path, slug, status: pending.status, retry: n });
      ctx.circuits.record(slug, DEFAULT_RETRYABLE.includes(pending.status));
      if (pending.status < 400) return { ok: true, pending, path, retries: n };
      failure = { status: pending.status, pending };
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      ctx.onAttempt?.({ path, slug, status: e.status, retry: n });
      if (e.code === 'upstream_unreachable' || e.code === 'upstream_timeout') ctx.circuits.record(slug, true);
      failure = { status: e.status, error: e };
    }
    if (ctx.signal.aborted || n >= attempts || !codes.includes(failure.status)) return { ok: false, failure, path, retries: n };
    const hinted = retry?.use_retry_after_header === false ? undefined : retryAfterMs(failure.pending);
    if (hinted !== undefined && hinted > MAX_RETRY_AFTER_MS) return { ok: false, failure, path, retries: n };
    failure.pending?.discard();
    // Exponential backoff with full jitter, unless the provider said how long to wait.
    const wait = hinted ?? Math.random() * Math.min(MAX_BACKOFF_MS, 250 * 2 ** n);
    await sleep(wait, undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

/** A leaf is reachable unless its provider's circuit is open; inner nodes always are. */
function reachable(node: RouteNode, ctx: ExecuteContext): boolean {
  if (node.targets) return true;
  const slug = node.provider?.replace(/^@/, '') ?? ctx.defaultProvider;
  return slug === undefined || ctx.circuits.allows(slug);
}

function pickWeighted(targets: RouteNode[]): number {
  const weights = targets.map((t) => t.weight ?? 1);
  let r = Math.random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) if ((r -= weights[i]!) < 0) return i;
  return targets.length - 1;
}

export async function execute(node: RouteNode, ctx: ExecuteContext, path = 'config', parent: Inherited = { override_params: {}, retry: undefined, request_timeout: undefined }): Promise<Outcome> {
  const inh: Inherited = {
    override_params: { ...parent.override_params, ...node.override_params },
    retry: node.retry ?? parent.retry,
    request_timeout: node.request_timeout ?? parent.request_timeout,
  };
  const targets = node.targets;
  if (!targets) return attemptLeaf(node, inh, path, ctx);
  const child = (i: number) => execute(targets[i]!, ctx, `${path}.targets[${i}]`, inh);
  switch (node.strategy?.mode ?? 'single') {
    case 'single':
      return child(0);
    case 'loadbalance': {
      const open = targets.map((t) => !reachable(t, ctx));
      const usable = open.every(Boolean) ? targets : targets.map((t, i) => (open[i] ? { ...t, weight: 0 } : t));
      return child(pickWeighted(usable));
    }
    case 'conditional': {
      const s = node.strategy!;
      const chosen = s.conditions?.find((c) => matches(c.query, ctx.query))?.then ?? s.default;
      const i = targets.findIndex((t) => t.name === chosen);
      if (i < 0) throw errors.invalidParam(`No condition of the routing config matched this request and it has no default (at ${path}.strategy).`);
      return child(i);
    }
    case 'fallback': {
      const codes = node.strategy?.on_status_codes ?? DEFAULT_RETRYABLE;
      let last: Outcome | undefined;
      // Skip targets whose circuit is open, unless none would be left.
      const order = targets.map((_, i) => i).filter((i) => reachable(targets[i]!, ctx));
      const tries = order.length ? order : targets.map((_, i) => i);
      for (const [k, i] of tries.entries()) {
        const out = await child(i);
        if (out.ok || !codes.includes(out.failure.status) || ctx.signal.aborted) return out;
        if (k < tries.length - 1) out.failure.pending?.discard();
        last = out;
      }
      return last!;
    }
  }
}
