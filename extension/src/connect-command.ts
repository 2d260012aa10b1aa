import * as vscode from 'vscode';
import type { ConnectOptions } from './api.js';
import { applyClaudeCodeSettings } from './claude-code-config.js';
import type { ConnectionStore } from './connection-store.js';
import { connect, ConnectError, type ConnectResult, type Scope } from './core/connect.js';
import { nodeFs } from './core/io.js';
import { describeMe, fetchMe, type Me, type Problem } from './core/profile.js';
import { parseSettings, valueAt } from './core/settings.js';
import { normaliseGatewayUrl, UrlError } from './core/url.js';
import { hostIo, workspaceDir } from './host-io.js';

/**
 * "Gatehouse: Connect Claude Code": asks for what the core needs (or takes it from the options
 * object, so tests and scripts skip every prompt), runs core `connect()`, and tells the developer
 * what happened in VS Code's words: notifications, a modal for what the admin set up, warnings
 * for each setting that would override the written one.
 */

export interface ConnectCommandResult {
  status: ConnectResult['status'] | 'cancelled' | 'failed';
  url?: string;
  file?: string;
  scope?: Scope;
  backup?: string | null;
  /** Env names and `model` as written (the token redacted). */
  written?: Record<string, string>;
  warnings: string[];
  notes: string[];
  claudeCode?: { written: boolean; note?: string };
  error?: { message: string; fix: string };
}

export interface ConnectDeps {
  store: ConnectionStore;
  /** The connection is saved: start the live feed with it. */
  onConnected(url: string, key: string): void;
}

const cancelled = (): ConnectCommandResult => ({ status: 'cancelled', warnings: [], notes: [] });

function checkUrl(v: string): string | undefined {
  // An empty box is not an error yet (it is how the box opens without a preset).
  if (!v.trim()) return undefined;
  try {
    normaliseGatewayUrl(v);
    return undefined;
  } catch (e) {
    return e instanceof UrlError ? e.message : String(e);
  }
}

async function askUrl(store: ConnectionStore): Promise<string | undefined> {
  const preset = vscode.workspace.getConfiguration('gatehouse').get<string>('gatewayUrl') || store.lastUrl() || '';
  return vscode.window.showInputBox({ title: 'Gatehouse: Connect Claude Code (1/2)', prompt: 'The gateway URL your platform admin gave you', placeHolder: 'https://gatehouse.example.com', value: preset, ignoreFocusOut: true, validateInput: checkUrl });
}

async function askKey(url: string): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title: 'Gatehouse: Connect Claude Code (2/2)',
    prompt: `Your key for ${url} (ghk_…). It is kept in VS Code's secret storage and Claude Code's settings file.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (!v.trim() ? 'Paste the key your platform admin gave you.' : /\s/.test(v.trim()) ? 'The key contains spaces: paste the key alone.' : undefined),
  });
}

async function askScope(yes: boolean | undefined): Promise<Scope | undefined> {
  const dflt = vscode.workspace.getConfiguration('gatehouse').get<Scope>('defaultScope') ?? 'user';
  const folder = workspaceDir();
  if (yes) return dflt === 'local' && folder ? 'local' : 'user';
  const items: Array<vscode.QuickPickItem & { scope: Scope }> = [{ scope: 'user', label: 'User', description: '~/.claude/settings.json', detail: 'Every project on this machine uses the gateway.' }];
  // Never the committed .claude/settings.json: the key would be committed with it.
  if (folder) items.push({ scope: 'local', label: 'This project only', description: '.claude/settings.local.json', detail: `Only ${folder}; the file is for this machine and not committed.` });
  if (items.length === 1) return 'user';
  if (dflt === 'local') items.reverse();
  return (await vscode.window.showQuickPick(items, { title: 'Where should Claude Code be connected?', ignoreFocusOut: true }))?.scope;
}

/** What the admin set up, shown before anything is written; false when the developer backs out. */
async function showProfile(me: Me, yes: boolean | undefined): Promise<boolean> {
  const lines = describeMe(me).map(([k, v]) => `${k}: ${v}`);
  if (yes) return true;
  const go = await vscode.window.showInformationMessage('Gatehouse: your platform admin set up', { modal: true, detail: lines.join('\n') }, 'Continue');
  return go === 'Continue';
}

async function reportProblem(p: Problem | { message: string; fix: string }, retry: () => Thenable<unknown>, verify: () => Thenable<unknown>, yes: boolean | undefined): Promise<void> {
  const text = `Gatehouse: ${p.message} Fix: ${p.fix}`;
  if (yes) {
    void vscode.window.showErrorMessage(text);
    return;
  }
  const pick = await vscode.window.showErrorMessage(text, 'Retry', 'Verify Connection');
  if (pick === 'Retry') await retry();
  else if (pick === 'Verify Connection') await verify();
}

/** The env values connect wrote, read back from the file (the core's result redacts the token). */
async function writtenEnv(file: string, written: Record<string, string>): Promise<Record<string, string>> {
  const data = parseSettings(file, await nodeFs.readFile(file));
  const out: Record<string, string> = {};
  for (const name of Object.keys(written)) {
    const v = valueAt(data, ['env', name]);
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

export async function runConnect(deps: ConnectDeps, opts: ConnectOptions = {}): Promise<ConnectCommandResult> {
  const typed = opts.gatewayUrl ?? (await askUrl(deps.store));
  if (typed === undefined) return cancelled();
  let url: string;
  try {
    const n = normaliseGatewayUrl(typed);
    url = n.url;
    if (n.notes.length) void vscode.window.showInformationMessage(`Gatehouse: ${n.notes.join(' ')} Using ${url}.`);
  } catch (e) {
    if (!(e instanceof UrlError)) throw e;
    void vscode.window.showErrorMessage(`Gatehouse: ${e.message}`);
    return { ...cancelled(), status: 'failed', error: { message: e.message, fix: 'Ask your platform admin for the gateway URL.' } };
  }
  const key = (opts.key ?? (await askKey(url)))?.trim();
  if (!key) return cancelled();

  const io = hostIo();
  const got = await fetchMe(io.fetch, url, key);
  if (!got.ok) {
    const p = got.problem;
    // A key problem asks for the key again; anything else keeps it.
    const keyProblem = p.kind === 'unauthorized' || p.kind === 'forbidden';
    await reportProblem(p, () => vscode.commands.executeCommand('gatehouse.connect', { ...opts, gatewayUrl: url, key: keyProblem ? undefined : key }), () => vscode.commands.executeCommand('gatehouse.verify', { gatewayUrl: url, key }), opts.yes);
    return { ...cancelled(), status: 'failed', url, error: { message: p.message, fix: p.fix } };
  }
  if (!(await showProfile(got.me, opts.yes))) return cancelled();
  const scope = opts.scope ?? (await askScope(opts.yes));
  if (!scope) return cancelled();
  if (scope === 'local' && !workspaceDir()) {
    const error = { message: 'The project scope needs an open folder.', fix: 'Open the project folder, or connect with the user scope.' };
    void vscode.window.showErrorMessage(`Gatehouse: ${error.message} ${error.fix}`);
    return { ...cancelled(), status: 'failed', error };
  }

  const ask = opts.yes
    ? undefined
    : async (field: string, required: boolean): Promise<string | undefined> =>
        vscode.window.showInputBox({
          title: `Gatehouse: metadata field "${field}"`,
          prompt: required ? `Your admin requires "${field}" on every request (sent in x-portkey-metadata).` : `Optional: "${field}" for x-portkey-metadata; leave empty to leave it out.`,
          ignoreFocusOut: true,
          validateInput: (v) => (required && !v.trim() ? `"${field}" is required.` : undefined),
        });
  let r: ConnectResult;
  try {
    r = await connect({ gateway: url, key, scope, metadata: opts.metadata ?? {}, ...(ask ? { ask } : {}) }, io);
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    await reportProblem(e, () => vscode.commands.executeCommand('gatehouse.connect', { ...opts, gatewayUrl: url, key, scope }), () => vscode.commands.executeCommand('gatehouse.verify', { gatewayUrl: url, key }), opts.yes);
    return { ...cancelled(), status: 'failed', url, scope, error: { message: e.message, fix: e.fix } };
  }

  const warnings = r.overrides.map((o) => `${o.message} ${o.fix}`);
  for (const w of warnings) void vscode.window.showWarningMessage(`Gatehouse: ${w}`);
  const env = await writtenEnv(r.file, Object.fromEntries(Object.entries(r.written).filter(([k]) => k !== 'model')));
  const claudeCode = await applyClaudeCodeSettings(deps.store, scope, env);
  await deps.store.save({ gatewayUrl: url, scope, cwd: io.cwd, metadata: r.metadata, headers: r.me.profile.headers }, key);
  deps.onConnected(url, key);

  // The URL corrections were told up front; the rest (kept headers, .gitignore, ...) now.
  const notes = [...r.notes.filter((n) => !normaliseGatewayUrl(typed).notes.includes(n)), ...(claudeCode.note ? [claudeCode.note] : [])];
  const done = r.status === 'unchanged' ? `Claude Code was already connected to ${url} (${r.file} unchanged).` : `Claude Code is connected to ${url}: ${r.file} written. New Claude Code sessions use the gateway.`;
  void vscode.window.showInformationMessage(`Gatehouse: ${done}${notes.length ? ` ${notes.join(' ')}` : ''}`);
  return { status: r.status, url, file: r.file, scope, backup: r.backup, written: r.written, warnings, notes, claudeCode };
}
