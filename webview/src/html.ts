/**
 * The webview's HTML document. Pure (no DOM, no `vscode`), so the extension host can import it
 * and a test can serve the very same page from a plain HTTP server.
 */

export interface WebviewHtmlOptions {
  /** The bundle's URI as the webview may load it (`webview.asWebviewUri`). */
  scriptUri: string;
  styleUri: string;
  /** `webview.cspSource`: the origin the bundle and stylesheet come from. */
  cspSource: string;
  nonce: string;
  title?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function renderWebviewHtml(o: WebviewHtmlOptions): string {
  // No 'unsafe-inline' anywhere: log values are untrusted, so nothing may become a script or a
  // style attribute even if a render bug slipped one into the DOM.
  const csp = [
    "default-src 'none'",
    `style-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
  ].join('; ');
  const title = escapeHtml(o.title ?? 'Gatehouse logs');
  const nonce = escapeHtml(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
</head>
<body>
<div id="app" class="app"></div>
<script nonce="${nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** A CSP nonce: 128 random bits in hex (not Math.random, which is predictable). */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
