import { backupFileFor } from './backup.js';
import { backupStore, settingsFileFor } from './connect.js';
import { metadataProblems, METADATA_HEADER, parseCustomHeaders, headerProblem, parseMetadataHeader } from './headers.js';
import { readIfExists, type CoreIo } from './io.js';
import { effectiveSettings, findOverrides, readSources, type SettingsSource } from './precedence.js';
import { call, fetchMe, httpProblem, type Me } from './profile.js';
import { sseCheck } from './sse-check.js';
import { normaliseGatewayUrl, UrlError } from './url.js';

/**
 * `gatehouse doctor`: each row of the seeds' troubleshooting tables as a check that passes or
 * fails and names the fix. It reads what Claude Code will read (the settings files in precedence
 * order, then the environment) unless a URL and key are given.
 */

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  gateway?: string;
  key?: string;
}

/** The oldest Claude Code release checked against Gatehouse (reference/clients.md); the seeds say to keep it current. */
export const MIN_CLAUDE_VERSION = '2.1.197';

const check = (name: string, status: CheckStatus, detail: string, fix?: string): Check => ({ name, status, detail, ...(fix && status !== 'pass' ? { fix } : {}) });

interface Ctx {
  io: CoreIo;
  sources: SettingsSource[];
  effective: ReturnType<typeof effectiveSettings>;
  url?: string;
  key?: string;
  me?: Me;
}

function urlCheck(ctx: Ctx, given: string | undefined): Check {
  const raw = given ?? ctx.effective.env.ANTHROPIC_BASE_URL?.value;
  const from = given ? 'the --gateway flag' : ctx.effective.env.ANTHROPIC_BASE_URL?.from;
  if (!raw) return check('gateway URL', 'fail', 'No ANTHROPIC_BASE_URL in any settings file or the environment: Claude Code is not pointed at a gateway.', 'Run gatehouse connect --gateway URL --key KEY.');
  try {
    const n = normaliseGatewayUrl(raw);
    ctx.url = n.url;
    if (n.url === raw.trim() || given) return check('gateway URL', n.notes.length && !given ? 'warn' : 'pass', `${n.url} (from ${from})${n.notes.length ? `; ${n.notes.join(' ')}` : ''}`);
    return check('gateway URL', 'fail', `${raw} (from ${from}) is not in the form Claude Code needs. ${n.notes.join(' ')}`, `Set ANTHROPIC_BASE_URL to ${n.url}: no trailing slash, no /v1 (gatehouse connect does this).`);
  } catch (e) {
    if (!(e instanceof UrlError)) throw e;
    return check('gateway URL', 'fail', `${raw} (from ${from}): ${e.message}`, 'Ask your platform admin for the gateway URL.');
  }
}

async function reachCheck(ctx: Ctx): Promise<Check> {
  const a = await call(ctx.io.fetch, ctx.url!, '/', undefined, { method: 'HEAD' });
  if (!a.ok) return check('network (DNS, connect, TLS)', 'fail', a.problem.message, a.problem.fix);
  await a.res.body?.cancel();
  return check('network (DNS, connect, TLS)', 'pass', `${new URL(ctx.url!).host} answered HEAD / with ${a.res.status} in ${a.ms} ms`);
}

async function keyCheck(ctx: Ctx, given: string | undefined): Promise<Check> {
  const key = given ?? ctx.effective.env.ANTHROPIC_AUTH_TOKEN?.value ?? ctx.effective.env.ANTHROPIC_API_KEY?.value;
  if (!key) return check('key', 'fail', 'No ANTHROPIC_AUTH_TOKEN in any settings file or the environment.', 'Run gatehouse connect --gateway URL --key KEY.');
  ctx.key = key;
  const got = await fetchMe(ctx.io.fetch, ctx.url!, key);
  if (!got.ok) return check('key', 'fail', got.problem.message, got.problem.fix);
  ctx.me = got.me;
  const k = got.me.key;
  return check('key', 'pass', `${k.prefix}… "${k.name}" in workspace ${got.me.workspace.name}${k.expires_at ? `, expires ${k.expires_at}` : ''}`);
}

async function modelsCheck(ctx: Ctx): Promise<Check> {
  const name = 'models listed';
  const a = await call(ctx.io.fetch, ctx.url!, '/v1/models?limit=1000', ctx.key);
  if (!a.ok) return check(name, 'fail', a.problem.message, a.problem.fix);
  const body = await a.res.text();
  if (a.res.status !== 200) {
    const p = httpProblem(ctx.url!, '/v1/models', a.res.status, body);
    return check(name, 'fail', `"No models available": ${p.message}`, p.fix);
  }
  const ids = ((JSON.parse(body) as { data?: Array<{ id: string }> }).data ?? []).map((m) => m.id);
  if (!ids.length) return check(name, 'fail', '"No models available": GET /v1/models returned an empty list for this key.', 'Ask your platform admin to check the key\'s allowed models and the provider slug.');
  const wanted = [ctx.effective.model?.value, ...['OPUS', 'SONNET', 'HAIKU'].map((m) => ctx.effective.env[`ANTHROPIC_DEFAULT_${m}_MODEL`]?.value)].filter((m): m is string => !!m && m.includes('-'));
  const absent = wanted.filter((m) => !ids.includes(m));
  if (absent.length) return check(name, 'warn', `${ids.length} models listed, but not ${absent.join(', ')}, which your settings name (the wrong model may respond, or none).`, 'Run gatehouse connect again to take the models your admin set up, or check with your platform team.');
  return check(name, 'pass', `${ids.length} model${ids.length > 1 ? 's' : ''}: ${ids.slice(0, 6).join(', ')}${ids.length > 6 ? ', …' : ''}`);
}

function metadataCheck(ctx: Ctx): Check {
  const name = 'metadata';
  const value = ctx.effective.env.ANTHROPIC_CUSTOM_HEADERS?.value ?? '';
  const { headers, problems } = parseCustomHeaders(value);
  problems.push(...headers.map((h) => headerProblem(h, ctx.key ? [ctx.key] : [])).filter((p): p is string => !!p));
  if (problems.length) return check(name, 'fail', `ANTHROPIC_CUSTOM_HEADERS: ${problems.join(' ')}`, 'Run gatehouse connect again to rewrite the headers.');
  const profile = ctx.me?.profile;
  const required = profile?.required_metadata ?? [];
  const meta = headers.find((h) => h.name.toLowerCase() === METADATA_HEADER);
  if (!meta) {
    const expected = Object.keys(profile?.metadata_template ?? {});
    if (required.length) return check(name, 'fail', `No ${METADATA_HEADER} header, but your key requires ${required.join(', ')}.`, 'Run gatehouse connect again (it fills the template).');
    return check(name, expected.length ? 'warn' : 'pass', expected.length ? `No ${METADATA_HEADER} header; your admin's template has ${expected.join(', ')}.` : 'No metadata header, and none is required.', 'Run gatehouse connect again (it fills the template).');
  }
  const parsed = parseMetadataHeader(meta.value);
  if (!parsed.metadata) return check(name, 'fail', parsed.problem!, 'Run gatehouse connect again to rewrite the header.');
  const wrong = metadataProblems(parsed.metadata, required);
  if (wrong.length) return check(name, 'fail', wrong.join(' '), 'Key names are case-sensitive and must match what your admin configured: run gatehouse connect again.');
  const unfilled = Object.keys(profile?.metadata_template ?? {}).filter((f) => !(f in parsed.metadata!));
  return check(name, unfilled.length ? 'warn' : 'pass', `${meta.value}${unfilled.length ? `; the template also has ${unfilled.join(', ')}` : ''}`, `Add ${unfilled.join(', ')} with gatehouse connect --meta FIELD=VALUE.`);
}

async function precedenceCheck(ctx: Ctx): Promise<Check> {
  const name = 'settings precedence';
  const io = ctx.io;
  // The file connect wrote (it has a backup record); otherwise the one the URL comes from.
  let target: SettingsSource | undefined;
  for (const scope of ['local', 'user'] as const) {
    const file = settingsFileFor(scope, io);
    if (!target && (await readIfExists(io.fs, backupFileFor(backupStore(io), file))) !== null) target = ctx.sources.find((s) => s.file === file);
  }
  target ??= ctx.sources.find((s) => s.file === ctx.effective.env.ANTHROPIC_BASE_URL?.from);
  const broken = ctx.sources.filter((s) => s.data === null);
  if (!target) {
    if (broken.length) return check(name, 'fail', broken.map((s) => s.error).join('; '), 'Fix those files: Claude Code skips a settings file that is not strict JSON.');
    return check(name, 'skip', 'No settings file sets the gateway (the environment does, or nothing).', 'Run gatehouse connect to write the settings.');
  }
  if (target.data === null) return check(name, 'fail', `${target.error}.`, `Remove the comments and trailing commas from ${target.file}, or run gatehouse connect again.`);
  const env = Object.fromEntries(Object.entries((target.data.env ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && /^(ANTHROPIC_|CLAUDE_CODE_)/.test(e[0])));
  const model = typeof target.data.model === 'string' ? target.data.model : undefined;
  const kind = target.kind === 'managed' ? 'local' : target.kind;
  const found = findOverrides(ctx.sources, io.env, { kind, file: target.file, env, model, data: target.data });
  const over = found.filter((o) => o.severity === 'override');
  if (over.length) return check(name, 'fail', over.map((o) => o.message).join(' '), over.map((o) => o.fix).join(' '));
  const info = found.map((o) => o.message).join(' ');
  return check(name, found.length ? 'warn' : 'pass', `${target.file} is in effect${info ? `; ${info}` : ', and nothing overrides it'}`, found.map((o) => o.fix).join(' '));
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

async function claudeCheck(ctx: Ctx): Promise<Check> {
  const name = 'Claude Code';
  const r = await ctx.io.exec('claude', ['--version'], { timeoutMs: 15_000 });
  if (r.error === 'ENOENT') return check(name, 'fail', 'claude is not on PATH.', 'Install it: npm install -g @anthropic-ai/claude-code');
  const v = /(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !v) return check(name, 'fail', `claude --version did not run: ${(r.stderr || r.stdout || r.error || '').trim().slice(0, 200)}`, 'Reinstall it: npm install -g @anthropic-ai/claude-code');
  if (!versionAtLeast(v, MIN_CLAUDE_VERSION)) return check(name, 'warn', `Claude Code ${v} is older than ${MIN_CLAUDE_VERSION}; old versions may not work with the gateway ("requests not appearing").`, 'Run claude update');
  return check(name, 'pass', `Claude Code ${v}`);
}

/** Every check, in the order a person would debug; later network checks are skipped once one fails. */
export async function runDoctor(opts: DoctorOptions, io: CoreIo): Promise<Check[]> {
  const sources = await readSources(io.fs, io);
  const ctx: Ctx = { io, sources, effective: effectiveSettings(sources, io.env) };
  const out: Check[] = [urlCheck(ctx, opts.gateway)];
  const net: Array<[string, () => Promise<Check>]> = [
    ['network (DNS, connect, TLS)', () => reachCheck(ctx)],
    ['key', () => keyCheck(ctx, opts.key)],
    ['models listed', () => modelsCheck(ctx)],
    ['streaming (SSE)', () => sseCheck(io.fetch, ctx.url!, ctx.key!)],
  ];
  let stop = ctx.url ? undefined : 'no usable gateway URL';
  for (const [name, run] of net) {
    const c = stop ? check(name, 'skip', `not run: ${stop}`) : await run();
    if (c.status === 'fail' && !stop && name !== 'models listed') stop = `the ${name} check failed`;
    out.push(c);
  }
  out.push(metadataCheck(ctx), await precedenceCheck(ctx), await claudeCheck(ctx));
  return out;
}
