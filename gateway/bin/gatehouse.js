#!/usr/bin/env node
// Stable entry point for `npx gatehouse`: the bundle in dist/ is built by `npm install` (postinstall).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/gatehouse.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('gatehouse: the gateway is not built yet; run `npm run build` in the repository root.');
  process.exit(1);
}
await import(bundle.href);
