import * as vscode from 'vscode';
import type { ConnectionStore } from './connection-store.js';
import { composeSetup, setupHeaders, type SetupTarget } from './core/copy-setup.js';

/**
 * "Gatehouse: Copy Setup for Claude Desktop / Office": the values those apps ask for, from the
 * saved connection, onto the clipboard. The notification says what was copied with the key
 * redacted; the text itself is never logged.
 */

export async function runCopySetup(store: ConnectionStore, target?: SetupTarget): Promise<{ target: SetupTarget; summary: string } | undefined> {
  const saved = store.saved();
  const key = await store.key();
  if (!saved || !key) {
    const pick = await vscode.window.showWarningMessage('Gatehouse: connect first; the setup is made from the gateway URL and key you connect with.', 'Connect Claude Code');
    if (pick) await vscode.commands.executeCommand('gatehouse.connect');
    return undefined;
  }
  const items: Array<vscode.QuickPickItem & { target: SetupTarget }> = [
    { target: 'desktop', label: 'Claude Desktop', detail: 'Developer → Configure third-party inference: base URL, key, auth scheme, extra headers' },
    { target: 'office', label: 'Claude for Office (Excel, PowerPoint)', detail: 'Enterprise gateway sign-in: gateway URL and API token' },
  ];
  const chosen = target ?? (await vscode.window.showQuickPick(items, { title: 'Copy the Gatehouse setup for…' }))?.target;
  if (!chosen) return undefined;
  const s = composeSetup(chosen, { url: saved.gatewayUrl, key, headers: setupHeaders(saved.metadata, saved.headers) });
  await vscode.env.clipboard.writeText(s.text);
  void vscode.window.showInformationMessage(`Gatehouse: ${s.summary} The clipboard holds your key: paste it, then copy something else.`);
  return { target: chosen, summary: s.summary };
}
