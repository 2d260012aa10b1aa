import * as vscode from 'vscode';
import type { ClaudeCodeMemo } from './core/claude-code-settings.js';
import type { Scope } from './core/connect.js';

/**
 * What the extension remembers of a connection. The key lives in SecretStorage (the OS
 * keychain), never in globalState or settings; the rest is in globalState so it survives a
 * restart and the status bar can go live without asking again.
 */

export interface SavedConnection {
  gatewayUrl: string;
  scope: Scope;
  /** The project directory for the `local` scope (and the precedence checks). */
  cwd: string;
  metadata: Record<string, string>;
  /** The onboarding profile's extra headers, for Copy Setup. */
  headers: Record<string, string>;
}

const CONNECTION = 'gatehouse.connection';
const LAST_URL = 'gatehouse.lastGatewayUrl';
const SECRET = 'gatehouse.key';
const MEMO = 'gatehouse.claudeCodeMemo';

export type MemoTarget = 'global' | 'workspace';

export class ConnectionStore {
  constructor(private readonly ctx: vscode.ExtensionContext) {}

  saved(): SavedConnection | undefined {
    return this.ctx.globalState.get<SavedConnection>(CONNECTION);
  }

  /** Kept after disconnect, to prefill the next connect. */
  lastUrl(): string | undefined {
    return this.ctx.globalState.get<string>(LAST_URL);
  }

  async key(): Promise<string | undefined> {
    return this.ctx.secrets.get(SECRET);
  }

  async save(c: SavedConnection, key: string): Promise<void> {
    await this.ctx.secrets.store(SECRET, key);
    await this.ctx.globalState.update(CONNECTION, c);
    await this.ctx.globalState.update(LAST_URL, c.gatewayUrl);
  }

  async clear(): Promise<void> {
    await this.ctx.secrets.delete(SECRET);
    await this.ctx.globalState.update(CONNECTION, undefined);
  }

  /** A workspace's Claude Code settings belong to that workspace, so their memo does too. */
  #memento(t: MemoTarget): vscode.Memento {
    return t === 'global' ? this.ctx.globalState : this.ctx.workspaceState;
  }

  memo(t: MemoTarget): ClaudeCodeMemo | undefined {
    return this.#memento(t).get<ClaudeCodeMemo>(MEMO);
  }

  async setMemo(t: MemoTarget, memo: ClaudeCodeMemo | undefined): Promise<void> {
    await this.#memento(t).update(MEMO, memo);
  }
}
