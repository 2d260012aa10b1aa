import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeNonce, renderWebviewHtml } from '../../webview/src/html.js';

/**
 * Serves the built webview the way VS Code shows it: the page from `renderWebviewHtml` with its
 * CSP, a stub `acquireVsCodeApi` (VS Code injects the real one before any page script), and the
 * theme's `--vscode-*` variables (VS Code sets them on <html>). Everything comes from one origin,
 * which plays the part of `webview.cspSource`.
 */

export type Theme = 'dark' | 'light';

const THEMES: Record<Theme, Record<string, string>> = {
  // Dark Modern.
  dark: {
    'font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
    'font-size': '13px',
    'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    'editor-font-size': '13px',
    foreground: '#cccccc', descriptionForeground: '#9d9d9d', errorForeground: '#f85149', focusBorder: '#0078d4',
    'editor-background': '#1f1f1f', 'sideBar-background': '#181818', 'panel-border': '#2b2b2b', 'widget-border': '#313131',
    'list-hoverBackground': '#2a2d2e', 'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff',
    'list-inactiveSelectionBackground': '#37373d', 'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-purple': '#b180d7',
    'badge-background': '#616161', 'badge-foreground': '#f8f8f8', 'input-background': '#313131', 'input-foreground': '#cccccc',
    'input-border': '#3c3c3c', 'dropdown-background': '#313131', 'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c',
    'textLink-foreground': '#4daafc', 'toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)', 'editorWarning-foreground': '#cca700',
    'inputValidation-errorBackground': '#5a1d1d', 'textCodeBlock-background': '#2b2b2b',
  },
  // Light Modern.
  light: {
    'font-family': '-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
    'font-size': '13px',
    'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    'editor-font-size': '13px',
    foreground: '#3b3b3b', descriptionForeground: '#717171', errorForeground: '#e51400', focusBorder: '#005fb8',
    'editor-background': '#ffffff', 'sideBar-background': '#f8f8f8', 'panel-border': '#e5e5e5', 'widget-border': '#e5e5e5',
    'list-hoverBackground': '#f2f2f2', 'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000',
    'list-inactiveSelectionBackground': '#e4e6f1', 'charts-blue': '#1a85ff', 'charts-green': '#388a34', 'charts-purple': '#652d90',
    'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'input-background': '#ffffff', 'input-foreground': '#3b3b3b',
    'input-border': '#cecece', 'dropdown-background': '#ffffff', 'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece',
    'textLink-foreground': '#005fb8', 'toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)', 'editorWarning-foreground': '#bf8803',
    'inputValidation-errorBackground': '#f2dede', 'textCodeBlock-background': '#f8f8f8',
  },
};

function themeCss(theme: Theme): string {
  const vars = Object.entries(THEMES[theme]).map(([k, v]) => `  --vscode-${k}: ${v};`);
  return `html {\n${vars.join('\n')}\n}\n`;
}

// Like VS Code's getState/setState: survives a reload of the document, not a new panel.
const STUB = `(() => {
  const KEY = 'gatehouse.webview.state';
  const stored = sessionStorage.getItem(KEY);
  window.__posted = [];
  window.__state = stored ? JSON.parse(stored) : undefined;
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may be called once');
    acquired = true;
    return {
      postMessage: (m) => { window.__posted.push(JSON.parse(JSON.stringify(m))); },
      getState: () => window.__state,
      setState: (s) => { window.__state = s; sessionStorage.setItem(KEY, JSON.stringify(s)); return s; },
    };
  };
  document.body.classList.add(new URLSearchParams(location.search).get('theme') === 'light' ? 'vscode-light' : 'vscode-dark');
})();
`;

export interface Harness {
  origin: string;
  close(): Promise<void>;
}

export async function serveWebview(bundleDir: string): Promise<Harness> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const send = (type: string, body: string | Buffer): void => {
        res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (url.pathname === '/') {
        const theme: Theme = url.searchParams.get('theme') === 'light' ? 'light' : 'dark';
        const origin = `http://${req.headers.host ?? ''}`;
        const nonce = makeNonce();
        const html = renderWebviewHtml({ scriptUri: `${origin}/main.js`, styleUri: `${origin}/main.css`, cspSource: origin, nonce })
          .replace('<link rel="stylesheet"', `<link rel="stylesheet" href="${origin}/theme-${theme}.css">\n<link rel="stylesheet"`)
          .replace(`<script nonce="${nonce}"`, `<script nonce="${nonce}" src="${origin}/stub.js"></script>\n<script nonce="${nonce}"`);
        send('text/html; charset=utf-8', html);
      } else if (url.pathname === '/main.js' || url.pathname === '/main.css') {
        const type = url.pathname.endsWith('.js') ? 'text/javascript' : 'text/css';
        send(type, await readFile(path.join(bundleDir, url.pathname.slice(1))));
      } else if (url.pathname === '/stub.js') {
        send('text/javascript', STUB);
      } else if (url.pathname === '/theme-dark.css' || url.pathname === '/theme-light.css') {
        send('text/css', themeCss(url.pathname.includes('light') ? 'light' : 'dark'));
      } else if (url.pathname === '/favicon.ico') {
        // Chromium asks for one on its own; a webview has none, and a 404 would read as an app error.
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
