#!/usr/bin/env -S node --max-semi-space-size=32
// A young generation of 32 MB (Node's default is 16): a request's short-lived buffers and objects
// then die young instead of being promoted: a quarter to a third more requests per core, for
// more memory (310 MB instead of ~240 MB with 1,000 streams; bench/RESULTS.md). `npm start`, the systemd units and the benchmark pass it too.
// Stable entry point for `npx gatehouse`: the bundle in dist/ is built by `npm install` (postinstall).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/gatehouse.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('gatehouse: the gateway is not built yet; run `npm run build` in the repository root.');
  process.exit(1);
}
await import(bundle.href);
