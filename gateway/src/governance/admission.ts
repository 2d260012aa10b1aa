import type { GatehouseConfig } from '../config/schema.js';
import type { Operation } from '../providers/types.js';
import type { RouteNode } from '../routing/config-schema.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { RequestBody } from '../wire/request-body.js';
import type { Ledger, Reservation } from './budgets.js';
import type { GuardrailSet } from './guardrail-set.js';
import type { GuardrailVerdict } from './guardrails/engine.js';
import type { PriceBook } from './pricing.js';
import { scopesFor } from './policy.js';
import type { PolicyRegistry } from './policy-registry.js';
import type { Lease, Limiter } from './rate-limit.js';

/**
 * The governance stages a request passes before it is sent, in the design's order: rate limits,
 * then budget, then guardrails. What they hand on (the lease, the reservation, the possibly
 * redacted body) is settled by the response meter, or released here if the request goes no further.
 */

export interface AdmissionDeps {
  config: Readonly<GatehouseConfig>;
  limits: Limiter;
  budgets: Ledger;
  guardrails: GuardrailSet;
  /** Workspaces, live: the file's and the admin API's. */
  policies: PolicyRegistry;
  prices: PriceBook;
}

export interface AdmissionInput {
  op: Operation;
  key: KeyRecord | undefined;
  body: RequestBody;
  route: RouteNode;
  metadata: Readonly<Record<string, string>>;
  /** Told the guardrail verdicts, so a denied request's log row has them too. */
  record?: { verdicts: GuardrailVerdict[] };
}

export interface Admission {
  body: RequestBody;
  lease: Lease;
  reservation: Reservation;
  /** Whether a budget applies (so streams are checked as they go). */
  budgeted: boolean;
  verdicts: GuardrailVerdict[];
  /** Response headers: rate-limit state, guardrail outcomes. */
  headers: Record<string, string>;
  /** Lets go of whatever was not settled (a request that ended before its answer). */
  release(): Promise<void>;
}

/** Tokens a body holds, erring high: JSON of English text and code runs nearer 4 bytes a token. */
export const estimateInputTokens = (body: RequestBody) => Math.ceil(body.raw.length / 3);

export async function admit(deps: AdmissionDeps, input: AdmissionInput): Promise<Admission> {
  const { op, key, metadata } = input;
  const model = input.body.string('model');
  const ws = key ? deps.policies.workspace(key.workspace) : undefined;
  const scopes = scopesFor({ budgets: deps.config.budgets, workspace: ws }, key, metadata);
  // count_tokens costs nothing upstream: it counts toward request limits only.
  const metered = op === 'messages';
  const meters = metered ? scopes.meters : [];
  if (model && meters.some((m) => m.unit === 'usd') && !deps.prices.lookup(model)) throw errors.unpricedModel(model);

  const inputTokens = estimateInputTokens(input.body);
  const acquired = deps.limits.acquire(scopes.limits, metered ? inputTokens : 0);
  // Only the Redis limiter answers with a promise; the in-memory one costs no extra tick.
  const lease = acquired instanceof Promise ? await acquired : acquired;
  let reservation: Reservation | undefined;
  try {
    const maxTokens = input.body.number('max_tokens') ?? 4096;
    // A stream can ask for more as it goes; a JSON answer cannot be cut, so it reserves its worst case.
    const output = input.body.boolean('stream') ? Math.min(maxTokens, 1024) : maxTokens;
    const usd = (model && deps.prices.estimate(model, inputTokens, output)) || 0;
    reservation = await deps.budgets.reserve(meters, { usd, tokens: inputTokens + output });

    const headers = { ...lease.headers };
    let body = input.body;
    let verdicts: GuardrailVerdict[] = [];
    const rails = op === 'messages' ? deps.guardrails.forRequest(ws?.guardrails ?? [], input.route.input_guardrails) : undefined;
    if (rails) {
      const outcome = rails.run({ body: body.raw, model, metadata });
      verdicts = outcome.verdicts;
      if (input.record) input.record.verdicts = verdicts;
      const seen = verdicts.filter((v) => v.matched).map((v) => `${v.id}=${v.action === 'deny' ? 'denied' : v.action === 'redact' ? 'redacted' : 'flagged'}`);
      if (seen.length) headers['x-gatehouse-guardrails'] = seen.join(', ');
      if (outcome.denied) {
        const e = errors.guardrailDenied(outcome.denied.message);
        Object.assign(e.headers, headers);
        throw e;
      }
      if (outcome.redactedBody) {
        const scanned = RequestBody.scan(outcome.redactedBody);
        if (!(scanned instanceof RequestBody)) throw errors.internal(new Error(`redacted body is not JSON: ${scanned.what}`));
        body = scanned;
      }
    }
    const held = reservation;
    return {
      body,
      lease,
      reservation: held,
      budgeted: meters.length > 0,
      verdicts,
      headers,
      release: async () => {
        lease.settle(0);
        lease.release();
        // A no-op when the response meter settled it already.
        await held.settle({ usd: 0, tokens: 0 });
      },
    };
  } catch (e) {
    lease.release();
    await reservation?.settle({ usd: 0, tokens: 0 });
    throw e;
  }
}
