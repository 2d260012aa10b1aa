// Bundles the extension for VS Code: extension/src/extension.ts → dist/extension/extension.js
// (CommonJS, `vscode` left to the host), the log webview → dist/webview/, and the in-host test
// suite → dist/test/vscode/suite/index.js when it exists. `node extension/build.mjs`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (...p) => path.join(root, ...p);

// The extension host of VS Code 1.100 runs Node 20. `module` first: jsonc-parser's `main` is a UMD
// build that requires its own files at run time ('./impl/format'), which a bundle cannot follow.
const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], logLevel: 'warning', legalComments: 'none', sourcemap: true };

await build({ ...node, entryPoints: [at('extension/src/extension.ts')], outfile: at('dist/extension/extension.js'), external: ['vscode'] });
process.stdout.write('extension built into dist/extension\n');

const { buildWebview } = await import(pathToFileURL(at('webview/build.mjs')).href);
await buildWebview({ outdir: at('dist/webview'), minify: true });
process.stdout.write('webview built into dist/webview\n');

const suite = at('test/vscode/suite/index.ts');
if (existsSync(suite)) {
  // mocha stays external: it is required from node_modules by the test run, not shipped.
  await build({ ...node, entryPoints: [suite], outfile: at('dist/test/vscode/suite/index.js'), external: ['vscode', 'mocha'] });
  process.stdout.write('in-host tests built into dist/test/vscode/suite\n');
}
