// Bundles the log webview (webview/src) for a VS Code webview panel. The extension build imports
// `buildWebview`; `node webview/build.mjs` builds the minified bundle into dist/webview/.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

/** @param {{ outdir: string, minify?: boolean }} options */
export async function buildWebview({ outdir, minify = true }) {
  const common = { bundle: true, minify, logLevel: 'warning', legalComments: 'none' };
  await Promise.all([
    build({
      ...common,
      entryPoints: [path.join(here, 'src/main.ts')],
      outfile: path.join(outdir, 'main.js'),
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      // Webviews load the bundle from a vscode-resource URI; a source map would be one more file to allow.
      sourcemap: false,
    }),
    build({
      ...common,
      entryPoints: [path.join(here, 'src/styles.css')],
      outfile: path.join(outdir, 'main.css'),
      // Chromium in VS Code's Electron supports everything the stylesheet uses; no lowering needed.
      target: 'chrome114',
    }),
  ]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = path.join(here, '..', 'dist', 'webview');
  await buildWebview({ outdir, minify: true });
  process.stdout.write(`webview built into ${path.relative(process.cwd(), outdir) || '.'}\n`);
}
