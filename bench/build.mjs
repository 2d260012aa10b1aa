// Bundles the benchmark into one file (it imports the test emulator's TypeScript builders).
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./main.ts', import.meta.url).pathname],
  outfile: new URL('./dist/bench.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
