import { z } from 'zod';

/**
 * Routing configs in the Portkey dialect (`x-portkey-config`, or named under `configs` in the
 * gateway's file): every snippet of the product docs is accepted as written. Provider
 * credentials never live in a config: targets name a provider of the gateway with `@slug`.
 */

const StatusCodes = z.array(z.number().int().min(100).max(599));

const Retry = z
  .object({
    attempts: z.number().int().min(0).max(5, { message: 'at most 5 retries per target' }),
    on_status_codes: StatusCodes.optional(),
    use_retry_after_header: z.boolean().optional(),
  })
  .strict();

const Cache = z.union([
  z.enum(['simple', 'semantic']),
  z
    .object({
      mode: z.enum(['simple', 'semantic']),
      /** Seconds. */
      max_age: z.number().int().positive().optional(),
    })
    .strict(),
]);

const Strategy = z
  .object({
    mode: z.enum(['single', 'fallback', 'loadbalance', 'conditional']),
    on_status_codes: StatusCodes.optional(),
    conditions: z.array(z.object({ query: z.record(z.string(), z.unknown()), then: z.string().min(1) }).strict()).optional(),
    default: z.string().min(1).optional(),
  })
  .strict();

export interface RouteNode {
  name?: string;
  provider?: string;
  weight?: number;
  strategy?: z.infer<typeof Strategy>;
  targets?: RouteNode[];
  override_params?: Record<string, unknown>;
  retry?: z.infer<typeof Retry>;
  cache?: z.infer<typeof Cache>;
  request_timeout?: number;
  forward_headers?: string[];
  input_guardrails?: string[];
}

export const RouteNodeSchema: z.ZodType<RouteNode> = z.lazy(() =>
  z
    .object({
      name: z.string().min(1).optional(),
      provider: z.string().regex(/^@?[a-z0-9][a-z0-9_-]*$/, { message: 'name a provider of this gateway, e.g. "@anthropic-prod"' }).optional(),
      weight: z.number().min(0).optional(),
      strategy: Strategy.optional(),
      targets: z.array(RouteNodeSchema).min(1).optional(),
      override_params: z.record(z.string(), z.unknown()).optional(),
      retry: Retry.optional(),
      cache: Cache.optional(),
      /** Milliseconds until the provider's response must start. */
      request_timeout: z.number().int().positive().optional(),
      /** Accepted for compatibility: Gatehouse forwards every end-to-end header already. */
      forward_headers: z.array(z.string().min(1)).optional(),
      /** Guardrail ids (the gateway's "guardrails"), run in order before the request is sent. */
      input_guardrails: z.array(z.string().min(1)).optional(),
    })
    .strict()
    .superRefine((n, ctx) => {
      if (n.strategy && !n.targets) ctx.addIssue({ code: 'custom', path: ['targets'], message: `strategy "${n.strategy.mode}" needs targets` });
      if (n.strategy?.mode === 'conditional') {
        const names = new Set((n.targets ?? []).map((t) => t.name).filter(Boolean));
        for (const [i, c] of (n.strategy.conditions ?? []).entries()) {
          if (!names.has(c.then)) ctx.addIssue({ code: 'custom', path: ['strategy', 'conditions', i, 'then'], message: `no target is named "${c.then}"` });
        }
        if (n.strategy.default && !names.has(n.strategy.default)) ctx.addIssue({ code: 'custom', path: ['strategy', 'default'], message: `no target is named "${n.strategy.default}"` });
      }
    }),
);

/** Every provider slug a config names, for checking them against the gateway's providers. */
export function providerRefs(node: RouteNode, path = 'config'): Array<{ slug: string; path: string }> {
  const own = node.provider ? [{ slug: node.provider.replace(/^@/, ''), path }] : [];
  return [...own, ...(node.targets ?? []).flatMap((t, i) => providerRefs(t, `${path}.targets[${i}]`))];
}
