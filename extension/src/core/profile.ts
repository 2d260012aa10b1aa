import type { BudgetView } from '../../../gateway/src/api/schemas.js';
import type { FetchLike } from './io.js';

/**
 * Calls to the gateway with a developer's key, and every way they fail told in the words of the
 * seeds' troubleshooting tables ("Connection refused", "401 Unauthorized: invalid or expired API
 * key", "404 Not Found: wrong base URL format", ...), each with the fix.
 */

export interface Profile {
  /** Fields to send as x-portkey-metadata; an empty value is for the developer to fill. */
  metadata_template: Record<string, string>;
  required_metadata: string[];
  models: { default?: string; opus?: string; sonnet?: string; haiku?: string };
  /** Extra headers (e.g. x-portkey-config); never credentials. */
  headers: Record<string, string>;
}

/** `GET /api/me` (gateway/src/api/budgets.ts `meRoutes`), the parts the connect flow reads. */
export interface Me {
  key: { id: string; name: string; prefix: string; status: string; expires_at: string | null; provider: string | null; config: string | null; allowed_models: string[] | null; required_metadata: string[]; metadata: Record<string, string> };
  workspace: { id: string; name: string; allowed_models: string[] | null; providers: string[] | null };
  budgets: BudgetView[];
  profile: Profile;
}

export type ProblemKind = 'dns' | 'refused' | 'tls' | 'timeout' | 'network' | 'unauthorized' | 'forbidden' | 'not_found' | 'server' | 'unexpected';

export interface Problem {
  kind: ProblemKind;
  message: string;
  fix: string;
  status?: number;
  /** The gateway's `error.details.error_code` or the network error code. */
  code?: string;
}

export type Answer = { ok: true; res: Response; ms: number } | { ok: false; problem: Problem };

const TLS = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|EPROTO$)/;

/** The code of the innermost error, and its message (undici's own is only "fetch failed"). */
function causeOf(e: unknown): { code?: string; message: string } {
  // undici: TypeError('fetch failed') whose cause has the code, or an AggregateError of attempts.
  let message = (e as Error | null)?.message ?? String(e);
  for (let c: unknown = e, depth = 0; c && depth < 4; depth++) {
    const o = c as { code?: unknown; errors?: unknown[]; cause?: unknown; message?: unknown };
    if (typeof o.message === 'string' && o.message) message = o.message;
    if (typeof o.code === 'string') return { code: o.code, message };
    c = o.errors?.[0] ?? o.cause;
  }
  return { message };
}

/** A request that never got an HTTP answer. */
export function networkProblem(url: string, e: unknown): Problem {
  const u = new URL(url);
  const reach = `Verify you can reach ${u.origin}: check the URL, your VPN and firewall rules.`;
  const name = (e as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', message: `${u.host} did not answer in time.`, fix: reach };
  const { code, message } = causeOf(e);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', code, message: `Network error: the name ${u.hostname} does not resolve (DNS, ${code}).`, fix: `Check the spelling of ${u.hostname}; if it is an internal name, connect to your VPN. ${reach}` };
  if (code === 'ECONNREFUSED') return { kind: 'refused', code, message: `Connection refused: nothing answers at ${u.host}.`, fix: `${reach} Is the gateway running on that port?` };
  if (code && TLS.test(code)) {
    const plain = code === 'EPROTO' || code.startsWith('ERR_SSL_') ? ` If the gateway serves plain HTTP, use http://${u.host}.` : '';
    return { kind: 'tls', code, message: `The TLS connection to ${u.host} failed (${code}).`, fix: `If your organisation uses its own certificate authority, point NODE_EXTRA_CA_CERTS at its certificate (PEM).${plain}` };
  }
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', code, message: `Connecting to ${u.host} timed out (${code}).`, fix: reach };
  return { kind: 'network', code, message: `Network error reaching ${u.host}: ${code ?? message}.`, fix: reach };
}

interface Envelope {
  error?: { type?: string; message?: string; details?: { error_code?: string } };
  request_id?: string;
}

/** An HTTP answer that is not what was asked for. `base` is the gateway URL, `path` what was called. */
export function httpProblem(base: string, path: string, status: number, body: string): Problem {
  let env: Envelope = {};
  try {
    env = JSON.parse(body) as Envelope;
  } catch {
    // Not the gateway's envelope (a proxy's HTML page, say): the status alone has to do.
  }
  const code = env.error?.details?.error_code;
  const said = env.error?.message ? ` The gateway says: ${env.error.message}` : '';
  const ask = 'Get a fresh key from your platform admin (or regenerate it), then connect again.';
  if (status === 401) {
    const why =
      code === 'key_expired' ? 'the key has expired' : code === 'key_revoked' ? 'the key was revoked' : code === 'key_rotated' ? 'the key was replaced by a rotated one' : code === 'missing_key' ? 'no key was sent' : 'the key is not known to this gateway (invalid or expired API key)';
    return { kind: 'unauthorized', status, code, message: `401 Unauthorized: ${why}.${said}`, fix: code === 'key_rotated' ? 'Use the new key your admin gave you when the key was rotated.' : code === 'unknown_key' ? `Check that you copied the whole key. ${ask}` : ask };
  }
  if (status === 403) {
    if (code === 'admin_key_on_model_route') return { kind: 'forbidden', status, code, message: `403 Forbidden: this is the gateway's admin key, which cannot be used by a client.${said}`, fix: 'Connect with your own developer key (ghk_...); your admin creates one with `gatehouse keys create`.' };
    return { kind: 'forbidden', status, code, message: `403 Forbidden: the key is valid but not allowed here (scoped to a different workspace, or provider credentials lack permissions).${said}`, fix: 'Ask your platform admin to check the key\'s workspace and the provider credentials.' };
  }
  if (status === 404) {
    const v1 = /\/v1(\/|$)/.test(new URL(base).pathname) || path.includes('/v1/v1');
    return { kind: 'not_found', status, code, message: `404 Not Found: wrong base URL format; ${base}${path} does not exist${v1 ? ' (/v1 is duplicated)' : ''}.${said}`, fix: `Use the gateway's address with no /v1 and no /v1/messages${v1 ? '' : ', and check that it is a Gatehouse gateway'}.` };
  }
  if (status >= 500) {
    const id = env.request_id ? ` (request id ${env.request_id})` : '';
    return { kind: 'server', status, code, message: `The gateway answered ${status}${id}; Claude Code would show "API Error: ${status}".${said}`, fix: status === 502 || status === 503 || status === 504 ? 'The gateway or a proxy in front of it is down or restarting: try again shortly, then tell your platform team.' : 'The gateway itself is failing: tell your platform team, with the request id.' };
  }
  return { kind: 'unexpected', status, code, message: `${path} answered ${status}.${said}`, fix: 'Check the gateway URL with your platform admin.' };
}

/** One call; network failures become a Problem. The caller reads the body. */
export async function call(fetch: FetchLike, base: string, path: string, key: string | undefined, opts: { method?: string; accept?: string; timeoutMs?: number } = {}): Promise<Answer> {
  const started = Date.now();
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  try {
    const res = await fetch(base + path, { method: opts.method ?? 'GET', headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    return { ok: true, res, ms: Date.now() - started };
  } catch (e) {
    return { ok: false, problem: networkProblem(base, e) };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `GET /api/me`: who this key is and how its client should be set up. */
export async function fetchMe(fetch: FetchLike, base: string, key: string): Promise<{ ok: true; me: Me } | { ok: false; problem: Problem }> {
  const a = await call(fetch, base, '/api/me', key);
  if (!a.ok) return a;
  const body = await a.res.text();
  if (a.res.status !== 200) return { ok: false, problem: httpProblem(base, '/api/me', a.res.status, body) };
  let me: unknown;
  try {
    me = JSON.parse(body);
  } catch {
    me = undefined;
  }
  if (!isObject(me) || !isObject(me.key) || !isObject(me.workspace) || !isObject(me.profile) || !Array.isArray(me.budgets)) {
    return { ok: false, problem: { kind: 'unexpected', status: 200, message: `${base}/api/me answered, but not as a Gatehouse gateway does.`, fix: 'Check the gateway URL with your platform admin: it should be the Gatehouse address, not a dashboard or another service.' } };
  }
  return { ok: true, me: me as unknown as Me };
}

function amount(unit: BudgetView['unit'], n: number): string {
  return unit === 'usd' ? `$${n.toFixed(2)}` : `${Math.round(n).toLocaleString('en-US')} tokens`;
}

/** What the admin set up for this key, one line per topic, for both front ends. */
export function describeMe(me: Me, metadata: Readonly<Record<string, string>> = {}): Array<[string, string]> {
  const k = me.key;
  const team = metadata.team ?? k.metadata.team ?? me.profile.metadata_template.team;
  const m = me.profile.models;
  const models = [m.default && `default ${m.default}`, m.opus && `opus ${m.opus}`, m.sonnet && `sonnet ${m.sonnet}`, m.haiku && `haiku ${m.haiku}`].filter(Boolean).join(', ');
  const allowed = k.allowed_models ?? me.workspace.allowed_models;
  return [
    ['Key', `${k.prefix}… "${k.name}" (${k.status}${k.expires_at ? `, expires ${k.expires_at}` : ', no expiry'})`],
    ['Workspace', `${me.workspace.name} (${me.workspace.id})${team ? `, team ${team}` : ''}`],
    ['Budgets', me.budgets.length ? me.budgets.map((b) => `${b.label}: ${amount(b.unit, b.spent)} of ${amount(b.unit, b.limit)} ${b.period === 'lifetime' ? 'in total' : b.period === 'day' ? 'today' : `this ${b.period}`}`).join('; ') : 'none set'],
    ['Models', `${models || 'the gateway default'}${allowed ? `; allowed: ${allowed.join(', ')}` : ''}`],
  ];
}
