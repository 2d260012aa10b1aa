import * as vscode from 'vscode';
import { isViewMessage, type HostMessage, type ViewMessage } from '../../webview/src/protocol.js';
import { makeNonce, renderWebviewHtml } from '../../webview/src/html.js';
import type { ConnectionStore } from './connection-store.js';
import type { FeedHost } from './core/feed-host.js';
import type { FeedEvent } from './core/live-feed.js';
import { fetchBodies } from './core/me-api.js';

/**
 * The "Gatehouse Log" panel's host side: the webview app (webview/) renders; this answers its
 * messages (webview/src/protocol.ts) from the same live feed as the status bar. The webview keeps
 * its own filters; on every `ready` (first load, or shown again after being hidden) it gets a full
 * snapshot, so nothing is lost across hide/show without keeping the page alive.
 */

/** The last messages posted, for the in-host tests; bounded so a long session does not grow it. */
const KEEP_POSTED = 1_000;

export class LogView implements vscode.Disposable {
  static readonly viewType = 'gatehouse.log';
  #panel: vscode.WebviewPanel | undefined;
  readonly posted: HostMessage[] = [];
  readonly #off: () => void;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: FeedHost,
    private readonly store: ConnectionStore,
  ) {
    this.#off = host.onEvent((e) => this.#forward(e));
  }

  get open(): boolean {
    return this.#panel !== undefined;
  }

  show(): void {
    if (this.#panel) {
      this.#panel.reveal();
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(LogView.viewType, 'Gatehouse Log', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [root] });
    const w = panel.webview;
    w.html = renderWebviewHtml({
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(root, 'main.css')).toString(),
      cspSource: w.cspSource,
      nonce: makeNonce(),
      title: 'Gatehouse Log',
    });
    w.onDidReceiveMessage((m: unknown) => {
      if (isViewMessage(m)) void this.#answer(m);
    });
    panel.onDidDispose(() => (this.#panel = undefined));
    this.#panel = panel;
  }

  #post(m: HostMessage): void {
    if (!this.#panel) return;
    void this.#panel.webview.postMessage(m);
    this.posted.push(m);
    if (this.posted.length > KEEP_POSTED) this.posted.splice(0, this.posted.length - KEEP_POSTED);
  }

  #forward(e: FeedEvent): void {
    switch (e.type) {
      case 'row':
        return this.#post({ type: 'row', row: e.row });
      case 'start':
        return this.#post({ type: 'start', start: e.start });
      case 'budgets':
        return this.#post({ type: 'budgets', budgets: e.budgets });
      case 'connection':
        return this.#post({ type: 'connection', connection: e.connection });
      case 'snapshot':
        return this.#post({ type: 'snapshot', snapshot: this.host.snapshot() });
      case 'alert':
        return; // A notification, shown by the extension; the view shows the budgets.
    }
  }

  async #answer(m: ViewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
        return this.#post({ type: 'snapshot', snapshot: this.host.snapshot() });
      case 'refresh': {
        const feed = this.host.feed;
        if (feed?.connection.state === 'live') await feed.reload();
        else feed?.retryNow();
        return this.#post({ type: 'snapshot', snapshot: this.host.snapshot() });
      }
      case 'detail':
        return this.#detail(m.id);
      case 'openSettings':
        await vscode.commands.executeCommand('workbench.action.openSettings', 'gatehouse');
        return;
    }
  }

  async #detail(id: string): Promise<void> {
    const saved = this.store.saved();
    const key = await this.store.key();
    if (!saved || !key) return this.#post({ type: 'detail', id, bodies: null, error: 'Not connected: connect Claude Code to see request bodies.' });
    const got = await fetchBodies((url, init) => fetch(url, init), saved.gatewayUrl, key, id);
    if (got.ok) this.#post({ type: 'detail', id, bodies: got.value });
    else this.#post({ type: 'detail', id, bodies: null, error: `${got.problem.message} ${got.problem.fix}` });
  }

  dispose(): void {
    this.#off();
    this.#panel?.dispose();
  }
}
