import * as vscode from 'vscode';
import type { ConnectionStore } from './connection-store.js';
import { runDoctor, type Check, type CheckStatus } from './core/doctor.js';
import { hostIo } from './host-io.js';

/**
 * "Gatehouse: Verify Connection": the core doctor (the seeds' troubleshooting rows as checks),
 * printed to the "Gatehouse" output channel with each fix, and a one-line summary. Without
 * options it checks what Claude Code will read (its settings files, then the environment).
 */

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '–' };

export interface VerifyOptions {
  gatewayUrl?: string;
  key?: string;
}

export async function runVerify(out: vscode.OutputChannel, store: ConnectionStore, opts: VerifyOptions = {}): Promise<Check[]> {
  const saved = store.saved();
  const io = hostIo(saved?.cwd);
  const checks = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Gatehouse: verifying the connection…' }, () =>
    runDoctor({ ...(opts.gatewayUrl ? { gateway: opts.gatewayUrl } : {}), ...(opts.key ? { key: opts.key } : {}) }, io),
  );
  out.appendLine(`Verify Connection, ${new Date().toLocaleString()}${opts.gatewayUrl ? ` (${opts.gatewayUrl})` : ''}`);
  for (const c of checks) {
    out.appendLine(`${MARK[c.status]} ${c.name}: ${c.detail}`);
    if (c.fix) out.appendLine(`    fix: ${c.fix}`);
  }
  out.appendLine('');
  out.show(true);
  const failed = checks.filter((c) => c.status === 'fail');
  const warned = checks.filter((c) => c.status === 'warn');
  if (failed.length) void vscode.window.showErrorMessage(`Gatehouse: ${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}. The fixes are in the Gatehouse output.`);
  else if (warned.length) void vscode.window.showWarningMessage(`Gatehouse: the connection works, with ${warned.length} warning${warned.length > 1 ? 's' : ''}: ${warned.map((c) => c.name).join(', ')}.`);
  else void vscode.window.showInformationMessage('Gatehouse: every check passed; Claude Code can use the gateway.');
  return checks;
}
