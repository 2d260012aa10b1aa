import * as vscode from 'vscode';
import type { FeedHost } from './core/feed-host.js';
import { statusText, summarise, tooltipMarkdown, type Level, type Thresholds } from './core/spend-summary.js';

/**
 * One status bar item: spend today, in the current Claude Code session, and the share of the
 * tightest budget, coloured at the configured thresholds. The words and figures come from
 * core/spend-summary.ts; this only puts them on the item and re-renders when the feed moves.
 */

const BACKGROUND: Record<Level, string | undefined> = { normal: undefined, warning: 'statusBarItem.warningBackground', error: 'statusBarItem.errorBackground' };

export interface StatusBarState {
  text: string;
  tooltip: string;
  background: string | undefined;
  command: string | undefined;
}

export class SpendStatusBar implements vscode.Disposable {
  readonly #item = vscode.window.createStatusBarItem('gatehouse.spend', vscode.StatusBarAlignment.Right, 100);
  #state: StatusBarState = { text: '', tooltip: '', background: undefined, command: undefined };
  readonly #disposables: vscode.Disposable[] = [];
  #pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: FeedHost) {
    this.#item.name = 'Gatehouse spend';
    const off = host.onEvent(() => this.#schedule());
    this.#disposables.push(
      { dispose: off },
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('gatehouse.statusBar') && this.render()),
    );
    // "Today" ends at midnight and the "retrying in" words age: re-render now and then too.
    const tick = setInterval(() => this.render(), 60_000);
    this.#disposables.push({ dispose: () => clearInterval(tick) });
    this.render();
    this.#item.show();
  }

  state(): StatusBarState {
    return this.#state;
  }

  /** A burst of events (a replay after reconnecting) renders once. */
  #schedule(): void {
    if (this.#pending) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      this.render();
    }, 50);
  }

  render(): void {
    const feed = this.host.feed;
    if (!feed) {
      this.#set({ text: '$(plug) Connect Claude Code', tooltip: 'Gatehouse: connect Claude Code to your organisation\'s gateway.', background: undefined, command: 'gatehouse.connect' });
      return;
    }
    const cfg = vscode.workspace.getConfiguration('gatehouse.statusBar');
    const th: Thresholds = { warnAt: cfg.get<number>('warnAt') ?? 0.8, errorAt: cfg.get<number>('errorAt') ?? 1 };
    const s = summarise(feed.rows(), feed.budgets(), feed.currentSession(), new Date(), th);
    const c = feed.connection;
    this.#set({ text: statusText(s, c), tooltip: tooltipMarkdown(s, c, feed.gateway), background: BACKGROUND[s.level], command: 'gatehouse.showLogs' });
  }

  #set(s: StatusBarState): void {
    this.#state = s;
    this.#item.text = s.text;
    const md = new vscode.MarkdownString(s.tooltip, true);
    this.#item.tooltip = md;
    this.#item.backgroundColor = s.background ? new vscode.ThemeColor(s.background) : undefined;
    this.#item.command = s.command;
  }

  dispose(): void {
    clearTimeout(this.#pending);
    for (const d of this.#disposables) d.dispose();
    this.#item.dispose();
  }
}
