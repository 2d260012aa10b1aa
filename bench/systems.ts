import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPinned, type Proc } from './procs.js';

/** A system under test: where to send the load, with which extra headers, and its process. */
export interface System {
  name: SystemName;
  url: string;
  /** The process whose CPU and memory are measured. */
  pid: number;
  headers: Record<string, string>;
  probePath: string;
  version: string;
  stop(): Promise<void>;
}

export type SystemName = 'direct' | 'bare-proxy' | 'gatehouse' | 'portkey';

export const SYSTEM_CPU = 1;
const BENCH = join(import.meta.dirname, 'bench.mjs');
const ROOT = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const version = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;
const UPSTREAM_KEY = 'sk-ant-bench-upstream';

export function direct(upstreamUrl: string, upstreamPid: number): System {
  return { name: 'direct', url: upstreamUrl, pid: upstreamPid, headers: { 'x-api-key': UPSTREAM_KEY }, probePath: '/', version: '-', stop: async () => undefined };
}

export async function bareProxy(upstreamUrl: string): Promise<System> {
  const { proc, match } = await startPinned(SYSTEM_CPU, process.execPath, [BENCH, 'bare-proxy', '--upstream', upstreamUrl], process.env, /"port":(\d+)/);
  return { name: 'bare-proxy', url: `http://127.0.0.1:${match[1]}`, pid: proc.pid, headers: { 'x-api-key': UPSTREAM_KEY }, probePath: '/', version: `undici ${version('undici')}`, stop: () => proc.stop() };
}

/**
 * The governance config every Gatehouse system runs (the scaled one adds only `store` and `redis`),
 * so single-instance and scaled figures measure the same work.
 */
export function gatehouseConfig(upstreamUrl: string): Record<string, unknown> {
  return {
    server: { cors: { origins: ['https://pivot.claude.ai'] } },
    providers: {
      anthropic: { kind: 'anthropic', api_key: 'env:BENCH_UPSTREAM_KEY', base_url: upstreamUrl },
      'anthropic-backup': { kind: 'anthropic', api_key: 'env:BENCH_UPSTREAM_KEY', base_url: upstreamUrl },
    },
    default_provider: 'anthropic',
    // Budgets and limits on the workspace, per developer and on the key, all high enough never to
    // refuse (their checks and the per-chunk budget gate are measured, not their refusals), and
    // guardrails on every request.
    workspaces: {
      bench: {
        name: 'Benchmark',
        budget: { usd: 1e9, period: 'month' },
        limits: { rpm: 10_000_000, tpm: 1e12, max_concurrent: 100_000 },
        user_budget: { usd: 1e9, tokens: 1e15, period: 'day' },
        user_limits: { rpm: 10_000_000, max_concurrent: 100_000 },
        guardrails: ['no-secrets', 'pii', 'words'],
      },
    },
    guardrails: {
      'no-secrets': { type: 'secrets', action: 'deny' },
      pii: { type: 'pii', action: 'flag' },
      words: { type: 'blocked_words', words: ['project-bluebird', 'codename-orion', 'internal-only-x'], action: 'deny' },
    },
    budgets: { timezone: 'Europe/Berlin' },
    // A two-target fallback with the response cache on (every request is sent with
    // x-portkey-cache-force-refresh, so the cache computes keys and stores answers but never
    // serves one: its cost is measured without its benefit).
    configs: { bench: { strategy: { mode: 'fallback' }, targets: [{ provider: '@anthropic' }, { provider: '@anthropic-backup' }], cache: { mode: 'simple', max_age: 60 } } },
  };
}

export const GATEHOUSE_ADMIN_KEY = 'gha_bench_admin_key';
export const gatehouseEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GATEHOUSE_ADMIN_KEY, BENCH_UPSTREAM_KEY: UPSTREAM_KEY, GATEHOUSE_LOG_LEVEL: 'warn' });
export const gatehouseVersion = (): string => (require(join(ROOT, 'gateway/package.json')) as { version: string }).version;

/** One gateway process on the system's CPU; resolves with its URL once it listens. */
export async function startGatehouseProcess(config: string, dataDir: string, env: NodeJS.ProcessEnv): Promise<{ proc: Proc; url: string }> {
  // With the V8 flag the gateway ships with (its bin's shebang, npm start, the systemd units).
  const { proc, match } = await startPinned(SYSTEM_CPU, process.execPath, ['--max-semi-space-size=32', join(ROOT, 'gateway/bin/gatehouse.js'), 'serve', '--config', config, '--port', '0', '--data', dataDir], env, /listening on (http:\/\/\S+)/);
  return { proc, url: match[1]! };
}

/** Creates the benchmark's key (policy, limits and budgets on, high enough never to refuse). */
export async function createBenchKey(url: string): Promise<string> {
  const res = await fetch(`${url}/api/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GATEHOUSE_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', workspace: 'bench', config: 'bench', metadata: { team: 'bench', env: 'bench' }, allowed_models: ['claude-*'], required_metadata: ['user'], rpm: 10_000_000, tpm: 1e12, max_concurrent: 100_000, budget_usd: 1e9, budget_tokens: 1e15, budget_period: 'day' }),
  });
  if (!res.ok) throw new Error(`creating the benchmark key failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: string }).key;
}

export const gatehouseHeaders = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}`, 'x-portkey-metadata': '{"user":"bench@example.com"}', 'x-portkey-cache-force-refresh': 'true' });

/** Gatehouse with every governance feature that exists switched on (the list grows with the product). */
export async function gatehouse(upstreamUrl: string): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const config = join(dir, 'gatehouse.jsonc');
  writeFileSync(config, JSON.stringify(gatehouseConfig(upstreamUrl)));
  let started: { proc: Proc; url: string };
  try {
    started = await startGatehouseProcess(config, dir, gatehouseEnv());
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { proc, url } = started;
  const key = await createBenchKey(url);
  return {
    name: 'gatehouse',
    url,
    pid: proc.pid,
    headers: gatehouseHeaders(key),
    probePath: '/healthz',
    version: gatehouseVersion(),
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Portkey's open-source gateway (pinned in package.json), routed to the same upstream through
 * its documented headers: provider `anthropic` with a custom host.
 */
export async function portkey(upstreamUrl: string): Promise<System> {
  const port = await freePort();
  const entry = require.resolve('@portkey-ai/gateway/build/start-server.js');
  const { proc } = await startPinned(
    SYSTEM_CPU,
    process.execPath,
    ['--require', join(ROOT, 'bench/portkey-loopback.cjs'), entry, `--port=${port}`, '--headless'],
    { ...process.env, NODE_ENV: 'production' },
    /Ready for connections/,
  );
  return {
    name: 'portkey',
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    headers: { 'x-api-key': UPSTREAM_KEY, 'x-portkey-provider': 'anthropic', 'x-portkey-custom-host': `${upstreamUrl}/v1` },
    probePath: '/',
    version: version('@portkey-ai/gateway'),
    stop: () => proc.stop(),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
