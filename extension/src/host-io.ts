import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { nodeExec, nodeFs, type CoreIo } from './core/io.js';

/**
 * The core's view of this machine from inside VS Code. The project is the first workspace folder
 * (Claude Code, started from the VS Code terminal or its extension, reads `.claude/` there); with
 * no folder open it is the home directory, where only the user settings apply.
 */
export function workspaceDir(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function hostIo(cwd: string = workspaceDir() ?? homedir()): CoreIo {
  return {
    home: homedir(),
    cwd,
    env: process.env,
    platform: process.platform,
    fs: nodeFs,
    // The global fetch, which VS Code can route through the configured proxy (http.fetchAdditionalSupport).
    fetch: (url, init) => fetch(url, init),
    exec: nodeExec,
  };
}
