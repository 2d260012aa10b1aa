import * as vscode from 'vscode';
import { restoreClaudeCodeSettings } from './claude-code-config.js';
import type { ConnectionStore } from './connection-store.js';
import { ConnectError, disconnect, type DisconnectResult, type Scope } from './core/connect.js';
import { hostIo } from './host-io.js';

/**
 * "Gatehouse: Disconnect Claude Code": the settings file as it was before connect (core
 * `disconnect()`, from the backup), the `claudeCode.*` settings as they were, the key out of
 * secret storage. The live feed stops (the caller's `onDisconnected`).
 */

export interface DisconnectCommandResult {
  status: DisconnectResult['status'] | 'failed';
  file?: string;
  how?: DisconnectResult['how'];
  claudeCode: { restored: boolean; note?: string };
  error?: { message: string; fix: string };
}

export async function runDisconnect(store: ConnectionStore, onDisconnected: () => Promise<void>, opts: { scope?: Scope } = {}): Promise<DisconnectCommandResult> {
  const saved = store.saved();
  const scope: Scope = opts.scope ?? saved?.scope ?? vscode.workspace.getConfiguration('gatehouse').get<Scope>('defaultScope') ?? 'user';
  await onDisconnected();
  const claudeCode = await restoreClaudeCodeSettings(store, scope);
  let r: DisconnectResult;
  try {
    r = await disconnect(scope, hostIo(saved?.cwd));
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    void vscode.window.showErrorMessage(`Gatehouse: ${e.message} Fix: ${e.fix}`);
    return { status: 'failed', claudeCode, error: { message: e.message, fix: e.fix } };
  }
  await store.clear();
  const what =
    r.status === 'nothing' ? `nothing to restore in ${r.file} (connect had not written it)` : r.how === 'exact' ? `${r.file} is back as it was before connect` : r.how === 'keys' ? `${r.file} had changed since connect, so only the keys connect wrote were put back` : `${r.file} no longer exists`;
  void vscode.window.showInformationMessage(`Gatehouse: disconnected; ${what}.${claudeCode.note ? ` ${claudeCode.note}` : ''} The key was removed from VS Code's secret storage.`);
  return { status: r.status, file: r.file, ...(r.how ? { how: r.how } : {}), claudeCode };
}
