import * as vscode from 'vscode';
import { planClaudeCodeSettings, restoredClaudeCodeSettings } from './core/claude-code-settings.js';
import type { Scope } from './core/connect.js';
import type { ConnectionStore, MemoTarget } from './connection-store.js';

/**
 * Writes and restores Claude Code for VS Code's `claudeCode.*` settings at the target that
 * matches the scope: User settings for `user`, the workspace for `local`. The decisions are in
 * core/claude-code-settings.ts; this only reads and writes VS Code's configuration.
 */

const SECTION = 'claudeCode';

const targetOf = (scope: Scope): { memo: MemoTarget; target: vscode.ConfigurationTarget } =>
  scope === 'user' ? { memo: 'global', target: vscode.ConfigurationTarget.Global } : { memo: 'workspace', target: vscode.ConfigurationTarget.Workspace };

function valueAt(name: string, memo: MemoTarget): unknown {
  const i = vscode.workspace.getConfiguration(SECTION).inspect(name);
  return memo === 'global' ? i?.globalValue : i?.workspaceValue;
}

/** VS Code refuses to write a setting no installed extension declares: Claude Code's is then absent. */
function why(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return /not a registered configuration/i.test(m) ? 'Claude Code for VS Code is not installed, so its settings were left alone.' : `Could not update the Claude Code extension's settings: ${m}`;
}

export async function applyClaudeCodeSettings(store: ConnectionStore, scope: Scope, env: Readonly<Record<string, string>>): Promise<{ written: boolean; note?: string }> {
  const { memo, target } = targetOf(scope);
  const before = store.memo(memo);
  const plan = planClaudeCodeSettings({ environmentVariables: valueAt('environmentVariables', memo), disableLoginPrompt: valueAt('disableLoginPrompt', memo) }, env, before);
  const cfg = vscode.workspace.getConfiguration(SECTION);
  try {
    // The memo first: if a write fails half way, disconnect still knows what was there.
    await store.setMemo(memo, plan.memo);
    await cfg.update('environmentVariables', plan.environmentVariables, target);
    await cfg.update('disableLoginPrompt', plan.disableLoginPrompt, target);
    return { written: true };
  } catch (e) {
    // Nothing was written (the extension is missing): nothing for disconnect to restore.
    if (!before) await store.setMemo(memo, undefined);
    return { written: false, note: why(e) };
  }
}

export async function restoreClaudeCodeSettings(store: ConnectionStore, scope: Scope): Promise<{ restored: boolean; note?: string }> {
  const { memo, target } = targetOf(scope);
  const m = store.memo(memo);
  if (!m) return { restored: false };
  const back = restoredClaudeCodeSettings(m);
  const cfg = vscode.workspace.getConfiguration(SECTION);
  try {
    await cfg.update('environmentVariables', back.environmentVariables, target);
    await cfg.update('disableLoginPrompt', back.disableLoginPrompt, target);
    await store.setMemo(memo, undefined);
    return { restored: true };
  } catch (e) {
    return { restored: false, note: why(e) };
  }
}
