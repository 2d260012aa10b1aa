import { z } from 'zod';
import { SecretRef } from './secret-ref.js';

/** The config sections of a multi-instance deployment (docs/scale-out.md); schema.ts composes them. */

const Ms = z.number().int().positive();

/**
 * What several gateway instances share: rate limits, budgets and spend live in Redis so every
 * instance enforces one limit, not one each; the response cache, change notices (keys, configs,
 * workspaces) and live events go through it too. Without this section all of it is in memory.
 */
export const RedisSchema = z
  .object({
    /** A secret reference to a redis:// or rediss:// URL (it may hold a password). */
    url: SecretRef,
    /** Put before every key, so several gateways (or other apps) can share one Redis. */
    key_prefix: z.string().max(64).default('gatehouse:'),
    on_failure: z
      .object({
        /** When Redis is unreachable: "open" admits without counting, "closed" refuses. Budgets always refuse. */
        rate_limits: z.enum(['open', 'closed']).default('closed'),
      })
      .strict()
      .default({ rate_limits: 'closed' }),
  })
  .strict();
export type RedisConfig = z.infer<typeof RedisSchema>;

/**
 * Where the gateway keeps its state: the embedded SQLite file in the data directory (one
 * instance), or a PostgreSQL database shared by several instances. Without this section,
 * GATEHOUSE_DATABASE_URL in the environment selects PostgreSQL (store/open.ts).
 */
export const StoreSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('sqlite') }).strict(),
    z
      .object({
        kind: z.literal('postgres'),
        /** The connection URL holds a password, so it is a secret reference like the others. */
        url: SecretRef,
        pool_size: z.number().int().min(1).max(1000).default(10),
        /** Server-side limit per statement; none by default. */
        statement_timeout_ms: Ms.optional(),
      })
      .strict(),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'kind must be one of: "sqlite", "postgres"' : undefined) },
);
export type StoreConfig = z.infer<typeof StoreSchema>;
