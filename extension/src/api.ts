import type { Connection, HostMessage } from '../../webview/src/protocol.js';

/**
 * What `activate()` returns, for the in-host tests (test/vscode): the status bar's text and
 * colours cannot be read through VS Code's public API, nor what the host posted to the webview.
 */
export interface GatehouseApi {
  statusBar(): { text: string; tooltip: string; background: string | undefined; command: string | undefined };
  feed(): { connection: Connection; rows: number };
  logView(): { open: boolean; posted: HostMessage[] };
}

/** The options every prompt of `gatehouse.connect` can be skipped with (tests, scripts). */
export interface ConnectOptions {
  gatewayUrl?: string;
  key?: string;
  scope?: 'user' | 'local';
  metadata?: Record<string, string>;
  /** Take the defaults and skip confirmations. */
  yes?: boolean;
}

/** The name the in-host suite imports. */
export type GatehouseTestApi = GatehouseApi;
