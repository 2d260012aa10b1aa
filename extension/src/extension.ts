import * as vscode from 'vscode';
import type { ConnectOptions, GatehouseApi } from './api.js';
import { runConnect } from './connect-command.js';
import { ConnectionStore } from './connection-store.js';
import { runCopySetup } from './copy-setup-command.js';
import type { SetupTarget } from './core/copy-setup.js';
import { FeedHost } from './core/feed-host.js';
import { runDisconnect } from './disconnect-command.js';
import { LogView } from './log-view.js';
import { SpendStatusBar } from './status-bar.js';
import { runVerify, type VerifyOptions } from './verify-command.js';

/**
 * Activation wires the pieces together and holds no logic of its own: each command is in its own
 * file, the decisions are in core/ (no `vscode`, unit-tested), and what activate returns is the
 * test API (api.ts).
 */

let host: FeedHost | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<GatehouseApi> {
  const store = new ConnectionStore(context);
  host = new FeedHost();
  const feeds = host;
  const out = vscode.window.createOutputChannel('Gatehouse');
  const bar = new SpendStatusBar(feeds);
  const logView = new LogView(context.extensionUri, feeds, store);

  const offAlerts = feeds.onEvent((e) => {
    if (e.type === 'alert') void vscode.window.showWarningMessage(`Gatehouse: ${e.alert.message}`, 'Show Request Log').then((pick) => pick && logView.show());
  });

  const onConnected = (url: string, key: string) => void feeds.start(url, key);
  context.subscriptions.push(
    out,
    bar,
    logView,
    { dispose: offAlerts },
    { dispose: () => void feeds.stop() },
    vscode.commands.registerCommand('gatehouse.connect', (opts?: ConnectOptions) => runConnect({ store, onConnected }, opts ?? {})),
    vscode.commands.registerCommand('gatehouse.disconnect', (opts?: { scope?: 'user' | 'local' }) => runDisconnect(store, () => feeds.stop(), opts ?? {})),
    vscode.commands.registerCommand('gatehouse.verify', (opts?: VerifyOptions) => runVerify(out, store, opts ?? {})),
    vscode.commands.registerCommand('gatehouse.copySetup', (opts?: { target?: SetupTarget }) => runCopySetup(store, opts?.target)),
    vscode.commands.registerCommand('gatehouse.showLogs', () => logView.show()),
  );

  // Connected in an earlier session: go live without asking again.
  const saved = store.saved();
  const key = await store.key();
  if (saved && key) onConnected(saved.gatewayUrl, key);

  return {
    statusBar: () => bar.state(),
    feed: () => ({ connection: feeds.connection(), rows: feeds.feed?.rowCount ?? 0 }),
    logView: () => ({ open: logView.open, posted: [...logView.posted] }),
  };
}

/** Ends the live stream so the extension host does not keep a socket open while it shuts down. */
export async function deactivate(): Promise<void> {
  await host?.stop();
  host = undefined;
}
