// Bundles the gateway CLI into one ESM file. Native and large runtime deps stay external
// (better-sqlite3 has a native addon; the rest resolve from node_modules at run time).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('./src/cli/main.ts', import.meta.url).pathname],
  outfile: new URL('./dist/gatehouse.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: Object.keys(pkg.dependencies),
  
  define: { GATEHOUSE_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
