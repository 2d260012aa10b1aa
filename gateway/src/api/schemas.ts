import { z } from 'zod';

/** Request and response shapes of the gateway's own `/api` routes; the CLI and the extension import these. */

export const Metadata = z.record(z.string().min(1).max(64), z.string().max(512));

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    workspace: z.string().min(1).default('default'),
    /** `@slug` or `slug`. */
    provider: z.string().min(1).optional(),
    config: z.string().min(1).optional(),
    metadata: Metadata.default({}),
    /** May send routing configs inline in `x-portkey-config` (ids are always allowed). */
    allow_inline_config: z.boolean().default(false),
    /** Model patterns this key may ask for, e.g. `["claude-sonnet-*", "claude-haiku-*"]`; omitted for any. */
    allowed_models: z.array(z.string().regex(/^[A-Za-z0-9@:._*-]+$/, { message: 'a model id or pattern with *' })).min(1).optional(),
    /** Metadata fields every request with this key must carry, e.g. `["user"]`. */
    required_metadata: z.array(z.string().min(1).max(64)).default([]),
    /** Requests per minute for this key. */
    rpm: z.number().int().positive().optional(),
    /** Requests in flight at once for this key. */
    max_concurrent: z.number().int().positive().optional(),
    /** Tokens per minute for this key (input and output together). */
    tpm: z.number().int().positive().optional(),
    /** The key's budget in USD and/or tokens per `budget_period`. */
    budget_usd: z.number().positive().optional(),
    budget_tokens: z.number().int().positive().optional(),
    budget_period: z.enum(['day', 'week', 'month', 'lifetime']).default('month'),
    /** A duration such as `30d`, `12h`; or use `expires_at`. */
    expires_in: z.string().optional(),
    expires_at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((b) => !(b.expires_in && b.expires_at), { message: 'give expires_in or expires_at, not both', path: ['expires_in'] });
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

/** Changes to a key's policy; `null` removes a limit or budget. The secret never changes here (rotate it). */
export const UpdateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    provider: z.string().min(1).nullable().optional(),
    config: z.string().min(1).nullable().optional(),
    metadata: Metadata.optional(),
    allow_inline_config: z.boolean().optional(),
    allowed_models: z.array(z.string().regex(/^[A-Za-z0-9@:._*-]+$/, { message: 'a model id or pattern with *' })).min(1).nullable().optional(),
    required_metadata: z.array(z.string().min(1).max(64)).optional(),
    rpm: z.number().int().positive().nullable().optional(),
    tpm: z.number().int().positive().nullable().optional(),
    max_concurrent: z.number().int().positive().nullable().optional(),
    budget_usd: z.number().positive().nullable().optional(),
    budget_tokens: z.number().int().positive().nullable().optional(),
    budget_period: z.enum(['day', 'week', 'month', 'lifetime']).optional(),
    expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict();
export type UpdateKeyBody = z.infer<typeof UpdateKeyBody>;

export const RotateKeyBody = z
  .object({
    /** How long the old key keeps working, e.g. `24h`; `0s` ends it now. */
    grace: z.string().default('24h'),
  })
  .strict();

export const ListKeysQuery = z
  .object({
    workspace: z.string().optional(),
    include_revoked: z.enum(['true', 'false']).optional(),
  })
  .strict();

export interface KeyView {
  id: string;
  name: string;
  workspace: string;
  provider: string | null;
  config: string | null;
  metadata: Record<string, string>;
  allow_inline_config: boolean;
  allowed_models: string[] | null;
  required_metadata: string[];
  rpm: number | null;
  max_concurrent: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_tokens: number | null;
  budget_period: 'day' | 'week' | 'month' | 'lifetime';
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_at: string | null;
  status: 'active' | 'expired' | 'revoked';
}

/** The key itself appears exactly once: in the answer to create or rotate. */
export interface KeyWithSecret extends KeyView {
  key: string;
}

/** One budget and where it stands in its current period. */
export interface BudgetView {
  scope: string;
  label: string;
  unit: 'usd' | 'tokens';
  limit: number;
  period: 'day' | 'week' | 'month' | 'lifetime';
  timezone: string;
  period_key: string;
  period_start: string | null;
  resets_at: string | null;
  spent: number;
  /** Held by requests in flight. */
  reserved: number;
  remaining: number;
}
