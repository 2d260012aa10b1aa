import { z } from 'zod';

/**
 * One guardrail, as written under the config's top-level "guardrails" map. The content checks
 * (regex, secrets, pii, blocked_words) can deny, redact or flag; the request checks
 * (allowed_models, max_input_tokens, required_metadata) have nothing to redact, so they deny or flag.
 */

export const SECRET_KINDS = [
  'aws_access_key',
  'aws_secret_key',
  'gcp_service_account',
  'private_key',
  'github_token',
  'slack_token',
  'anthropic_key',
  'openai_key',
  'stripe_key',
  'google_api_key',
  'jwt',
  'gatehouse_key',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export const PII_KINDS = ['email', 'phone', 'card', 'iban', 'us_ssn', 'uk_nino'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

const Name = z.string().min(1).optional();
const ContentAction = z.enum(['deny', 'redact', 'flag'], { error: 'action must be "deny", "redact" or "flag"' }).default('deny');
const CheckAction = z.enum(['deny', 'flag'], { error: 'action must be "deny" or "flag" (this guardrail checks the request, it has nothing to redact)' }).default('deny');

const kinds = <T extends readonly [string, ...string[]]>(all: T) =>
  z.array(z.enum(all, { error: `must be one of: ${all.join(', ')}` })).min(1).optional();

const FLAGS = /^[imsu]*$/;

const Regex = z
  .object({
    type: z.literal('regex'),
    name: Name,
    action: ContentAction,
    pattern: z.string().min(1),
    /** `g` is added by the engine; `y`, `d` and `v` would change what a match means. */
    flags: z.string().regex(FLAGS, { message: 'flags may only contain i, m, s and u' }).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const flags = d.flags ?? '';
    if (!FLAGS.test(flags)) return; // reported on "flags" already
    if (new Set(flags).size !== flags.length) {
      ctx.addIssue({ code: 'custom', path: ['flags'], message: 'each flag may appear once' });
      return;
    }
    let re: RegExp;
    try {
      re = new RegExp(d.pattern, flags);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid JavaScript regular expression (${(e as Error).message})` });
      return;
    }
    // An empty match says nothing about the request and would "match" every request.
    if (re.test('')) ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'the pattern matches the empty string; it must match at least one character' });
  });

const Secrets = z.object({ type: z.literal('secrets'), name: Name, action: ContentAction, kinds: kinds(SECRET_KINDS) }).strict();

const Pii = z.object({ type: z.literal('pii'), name: Name, action: ContentAction, kinds: kinds(PII_KINDS) }).strict();

const BlockedWords = z
  .object({ type: z.literal('blocked_words'), name: Name, action: ContentAction, words: z.array(z.string().trim().min(1)).min(1) })
  .strict();

const AllowedModels = z
  .object({
    type: z.literal('allowed_models'),
    name: Name,
    action: CheckAction,
    /** `*` matches any run of characters, as in key policies: "claude-sonnet-*". */
    models: z.array(z.string().min(1)).min(1),
  })
  .strict();

const MaxInputTokens = z
  .object({ type: z.literal('max_input_tokens'), name: Name, action: CheckAction, max: z.number().int().positive() })
  .strict();

const RequiredMetadata = z
  .object({ type: z.literal('required_metadata'), name: Name, action: CheckAction, keys: z.array(z.string().min(1)).min(1) })
  .strict();

const TYPES = ['regex', 'secrets', 'pii', 'blocked_words', 'allowed_models', 'max_input_tokens', 'required_metadata'];

export const GuardrailSchema = z.discriminatedUnion('type', [Regex, Secrets, Pii, BlockedWords, AllowedModels, MaxInputTokens, RequiredMetadata], {
  error: (issue) => (issue.code === 'invalid_union' ? `type must be one of: ${TYPES.map((t) => `"${t}"`).join(', ')}` : undefined),
});
export type GuardrailDef = z.infer<typeof GuardrailSchema>;
