import { join } from 'node:path';
import { backupFileFor, loadRecord, nextRecord, restore, restoringEdits, saveRecord, sha256, type Restored } from './backup.js';
import { fillMetadata, mergeCustomHeaders, metadataProblems, METADATA_HEADER, type FieldSource, type Header } from './headers.js';
import { claudeDir, redact, type CoreIo, type Place } from './io.js';
import { findOverrides, readSources, type Override } from './precedence.js';
import { describeMe, fetchMe, type Me } from './profile.js';
import { editSettings, parseSettings, readSettingsFile, SettingsError, valueAt, writeFileAtomic, type SettingEdit, type SettingPath } from './settings.js';
import { normaliseGatewayUrl, UrlError } from './url.js';

/**
 * "Connect Claude Code": gateway URL and key in, Claude Code's settings out. Every step is here,
 * so the VS Code command and `gatehouse connect` differ only in how they ask and print.
 */

/** `user`: ~/.claude/settings.json. `local`: the project's gitignored .claude/settings.local.json. */
export type Scope = 'user' | 'local';

export class ConnectError extends Error {
  override name = 'ConnectError';
  constructor(
    message: string,
    readonly fix: string,
    /** 2: the input is wrong (usage); 1: the gateway or the file said no. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/**
 * `project` is accepted as a name for `local`: the committed .claude/settings.json is never
 * written, because the key would be committed with it.
 */
export function parseScope(s: string | undefined): { scope: Scope; note?: string } {
  if (s === undefined || s === 'user') return { scope: 'user' };
  if (s === 'local') return { scope: 'local' };
  if (s === 'project') return { scope: 'local', note: 'Project scope writes .claude/settings.local.json (gitignored), never the committed .claude/settings.json: the key must not be committed.' };
  throw new ConnectError(`Unknown scope "${s}".`, 'Use --scope user (~/.claude/settings.json, the default) or --scope local (this project\'s .claude/settings.local.json).', 2);
}

export function settingsFileFor(scope: Scope, p: Place): string {
  return scope === 'user' ? join(claudeDir(p), 'settings.json') : join(p.cwd, '.claude', 'settings.local.json');
}

/** Gatehouse's backups of settings files, in the user's Claude directory whatever the scope. */
export const backupStore = (p: Place): string => join(claudeDir(p), 'gatehouse-backups');

const MODEL_ENV = { opus: 'ANTHROPIC_DEFAULT_OPUS_MODEL', sonnet: 'ANTHROPIC_DEFAULT_SONNET_MODEL', haiku: 'ANTHROPIC_DEFAULT_HAIKU_MODEL' } as const;

/** The settings connect writes for this gateway, key and header value. */
export function plannedSettings(url: string, key: string, me: Me, customHeaders: string): { env: Record<string, string>; model?: string } {
  const env: Record<string, string> = { ANTHROPIC_BASE_URL: url, ANTHROPIC_AUTH_TOKEN: key };
  if (customHeaders) env.ANTHROPIC_CUSTOM_HEADERS = customHeaders;
  for (const [alias, name] of Object.entries(MODEL_ENV)) {
    const id = me.profile.models[alias as keyof typeof MODEL_ENV];
    if (id) env[name] = id;
  }
  // Claude Code then lists the models this key may use from GET /v1/models (reference/clients.md).
  env.CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY = '1';
  return { env, ...(me.profile.models.default ? { model: me.profile.models.default } : {}) };
}

export interface ConnectRequest {
  gateway: string;
  key: string;
  scope: Scope;
  /** Metadata values given up front (flags); they also override the template's defaults. */
  metadata?: Record<string, string>;
  /** Asks the developer for a metadata field; absent means never ask. */
  ask?: (field: string, required: boolean) => Promise<string | undefined>;
  /** Shown the plan before anything is written; absent means go ahead. */
  confirm?: (plan: ConnectResult) => Promise<boolean>;
  now?: Date;
}

export interface ConnectResult {
  status: 'written' | 'unchanged' | 'declined';
  url: string;
  file: string;
  scope: Scope;
  backup: string | null;
  me: Me;
  summary: Array<[string, string]>;
  metadata: Record<string, string>;
  metadataFrom: Record<string, FieldSource>;
  /** What was written: env names (the token redacted) and `model`. */
  written: Record<string, string>;
  notes: string[];
  overrides: Override[];
}

async function gitEmail(io: CoreIo): Promise<string | undefined> {
  const r = await io.exec('git', ['config', '--get', 'user.email'], { cwd: io.cwd, timeoutMs: 5_000 });
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

export async function connect(req: ConnectRequest, io: CoreIo): Promise<ConnectResult> {
  try {
    return await connectSteps(req, io);
  } catch (e) {
    if (e instanceof SettingsError) throw new ConnectError(e.message, e.fix);
    throw e;
  }
}

async function connectSteps(req: ConnectRequest, io: CoreIo): Promise<ConnectResult> {
  let url: string;
  const notes: string[] = [];
  try {
    const n = normaliseGatewayUrl(req.gateway);
    url = n.url;
    notes.push(...n.notes);
  } catch (e) {
    if (e instanceof UrlError) throw new ConnectError(e.message, 'Ask your platform admin for the gateway URL.', 2);
    throw e;
  }
  const key = req.key.trim();
  if (!key || /\s/.test(key)) throw new ConnectError('The key is empty or contains spaces.', 'Paste the key your platform admin gave you (ghk_...), alone.', 2);

  const got = await fetchMe(io.fetch, url, key);
  if (!got.ok) throw new ConnectError(got.problem.message, got.problem.fix, 1);
  const me = got.me;

  const required = me.profile.required_metadata;
  const filled = await fillMetadata(me.profile.metadata_template, req.metadata ?? {}, { gitEmail: await gitEmail(io), ask: req.ask && ((f) => req.ask!(f, required.includes(f))) });
  const problems = metadataProblems(filled.metadata, required);
  if (problems.length) throw new ConnectError(`The metadata is not complete: ${problems.join(' ')}`, `Give a value for each required field (on the command line: --meta ${required.find((f) => !filled.metadata[f]) ?? 'user'}=VALUE).`, 2);
  for (const f of filled.missing) notes.push(`Metadata field "${f}" was left out: no value was given and it is not required.`);

  const file = settingsFileFor(req.scope, io);
  const store = backupStore(io);
  const before = await readSettingsFile(io.fs, file);
  const current = parseSettings(file, before.text);
  const ours: Header[] = [];
  if (Object.keys(filled.metadata).length) ours.push({ name: METADATA_HEADER, value: JSON.stringify(filled.metadata) });
  for (const [name, value] of Object.entries(me.profile.headers)) ours.push({ name, value });
  let merged: ReturnType<typeof mergeCustomHeaders>;
  try {
    const existing = valueAt(current, ['env', 'ANTHROPIC_CUSTOM_HEADERS']);
    merged = mergeCustomHeaders(typeof existing === 'string' ? existing : undefined, ours, [key]);
  } catch (e) {
    throw new ConnectError(`The gateway's onboarding profile asks for a header that cannot be written: ${(e as Error).message}`, 'Tell your platform admin (workspaces.<id>.onboarding.headers in the gateway config).');
  }
  if (merged.kept.length) notes.push(`Kept your own header${merged.kept.length > 1 ? 's' : ''} ${merged.kept.join(', ')} in ANTHROPIC_CUSTOM_HEADERS.`);
  if (merged.dropped.length) notes.push(`Removed ${merged.dropped.join(', ')} from ANTHROPIC_CUSTOM_HEADERS: credentials do not belong in headers (the gateway would read a stale key there first).`);

  const plan = plannedSettings(url, key, me, merged.text);
  const edits: SettingEdit[] = Object.entries(plan.env).map(([name, value]) => ({ path: ['env', name], value }));
  if (plan.model !== undefined) edits.push({ path: ['model'], value: plan.model });
  // Nothing to send: a header value left from before (credential lines only, say) goes.
  if (!plan.env.ANTHROPIC_CUSTOM_HEADERS) edits.push({ path: ['env', 'ANTHROPIC_CUSTOM_HEADERS'], value: undefined });
  // A key an earlier connect wrote that this profile no longer sets (an admin dropped a model, say) goes back to how it was.
  const prev = await loadRecord(io.fs, store, file);
  const paths: SettingPath[] = edits.map((e) => e.path);
  const stale = (prev?.entries ?? []).filter((e) => !paths.some((p) => p.join('.') === e.path.join('.')));
  const edited = editSettings(file, before.text, [...edits, ...restoringEdits(stale)]);
  notes.push(...edited.notes);
  for (const e of stale) notes.push(`Put ${e.path.join('.')} back as it was before connect: the gateway's profile no longer sets it.`);

  const written: Record<string, string> = Object.fromEntries(Object.entries(plan.env).map(([k, v]) => [k, k === 'ANTHROPIC_AUTH_TOKEN' ? redact(v) : v]));
  if (plan.model !== undefined) written.model = plan.model;
  const sources = await readSources(io.fs, io);
  const overrides = findOverrides(sources, io.env, { kind: req.scope === 'user' ? 'user' : 'local', file, env: plan.env, model: plan.model, data: parseSettings(file, edited.text) });
  if (req.scope === 'local') {
    // Exit 1: not ignored; 0: ignored; 128: not a git repository (nothing can commit it).
    const ignored = await io.exec('git', ['check-ignore', '-q', file], { cwd: io.cwd, timeoutMs: 5_000 });
    if (ignored.code === 1) notes.push(`${file} is not ignored by git, and it holds your key: add ".claude/settings.local.json" to .gitignore before committing.`);
  }

  const result: ConnectResult = { status: 'written', url, file, scope: req.scope, backup: null, me, summary: describeMe(me, filled.metadata), metadata: filled.metadata, metadataFrom: filled.from, written, notes, overrides };
  if (req.confirm && !(await req.confirm(result))) return { ...result, status: 'declined' };

  // Running connect again with nothing new to write leaves the file and its backup alone.
  if (prev && edited.text === before.text && before.mode === 0o600) return { ...result, status: 'unchanged', backup: backupFileFor(store, file) };
  const rec = nextRecord(prev, { file, text: before.text, mode: before.mode, now: req.now ?? new Date() }, paths, sha256(edited.text));
  rec.entries = rec.entries.filter((e) => !stale.includes(e));
  // The record first: if the write then fails, disconnect still knows what was there.
  const backup = await saveRecord(io.fs, store, rec);
  await writeFileAtomic(io.fs, file, edited.text, 0o600);
  return { ...result, backup };
}

export interface DisconnectResult extends Partial<Restored> {
  status: 'restored' | 'nothing';
  file: string;
}

/** Undoes connect for this scope: the file as it was before (see backup.ts for how exactly). */
export async function disconnect(scope: Scope, io: CoreIo): Promise<DisconnectResult> {
  const file = settingsFileFor(scope, io);
  const store = backupStore(io);
  const rec = await loadRecord(io.fs, store, file);
  if (!rec) return { status: 'nothing', file };
  try {
    return { status: 'restored', ...(await restore(io.fs, store, rec)) };
  } catch (e) {
    if (e instanceof SettingsError) throw new ConnectError(e.message, e.fix);
    throw e;
  }
}
