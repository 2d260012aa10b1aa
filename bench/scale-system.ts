// The two systems of the scale-out comparison, as sets of processes whose CPU is read per group:
// `gatehouse` (one instance, SQLite, limits and budgets in memory) and `gatehouse-scaled` (two
// instances sharing one PostgreSQL store and one Redis, with the same governance config).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, memoryMb, type Proc } from './procs.js';
import { pgWriteXid, type Services } from './services.js';
import { createBenchKey, gatehouse, gatehouseConfig, gatehouseEnv, gatehouseHeaders, gatehouseVersion, startGatehouseProcess } from './systems.js';

/** `gatehouse-pg-redis` is one instance on the shared services: it tells the cost of the network hops from the cost of two processes sharing a core. */
export type ScaleSystemName = 'gatehouse' | 'gatehouse-pg-redis' | 'gatehouse-scaled';

export interface CpuGroups {
  /** Sum over the gateway instances. */
  gateway: number;
  postgres?: number;
  redis?: number;
}

export interface ScaleSystem {
  name: ScaleSystemName;
  version: string;
  urls: string[];
  headers: Record<string, string>;
  /** Cumulative CPU ms of each process group. */
  cpu(): CpuGroups;
  /** Peak RSS of each gateway instance, MB. */
  peakRssMb(): number[];
  /** Work done in the shared services, cumulative (scaled only). */
  serviceOps?(): Promise<{ redisCommands: Record<string, number>; pgWriteTransactions: number }>;
  /** The shared database, when there is one (for the log-row check). */
  databaseUrl?: string;
  stop(): Promise<void>;
}

export async function singleInstance(upstreamUrl: string): Promise<ScaleSystem> {
  const sys = await gatehouse(upstreamUrl);
  return { name: 'gatehouse', version: sys.version, urls: [sys.url], headers: sys.headers, cpu: () => ({ gateway: cpuMs(sys.pid) }), peakRssMb: () => [memoryMb(sys.pid).peak], stop: () => sys.stop() };
}

export async function scaledInstances(upstreamUrl: string, services: Services, instances = 2): Promise<ScaleSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-scaled-'));
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const databaseUrl = await services.database();
    const config = join(dir, 'gatehouse.jsonc');
    // A prefix per run, so nothing counted by an earlier scenario leaks into this one.
    const prefix = `bench-${Math.random().toString(16).slice(2, 10)}:`;
    writeFileSync(config, JSON.stringify({ ...gatehouseConfig(upstreamUrl), store: { kind: 'postgres', url: 'env:BENCH_DATABASE_URL' }, redis: { url: 'env:BENCH_REDIS_URL', key_prefix: prefix } }));
    const env = { ...gatehouseEnv(), BENCH_DATABASE_URL: databaseUrl, BENCH_REDIS_URL: services.redisUrl };
    const urls: string[] = [];
    let key = '';
    for (let i = 0; i < instances; i++) {
      const data = join(dir, `data-${i}`);
      mkdirSync(data);
      const { proc, url } = await startGatehouseProcess(config, data, env);
      procs.push(proc);
      urls.push(url);
      // Created once through the first instance (which has migrated the schema by then); the
      // others read it from the shared store, as a deployment behind a load balancer does.
      if (i === 0) key = await createBenchKey(url);
    }
    return {
      name: instances === 1 ? 'gatehouse-pg-redis' : 'gatehouse-scaled',
      version: gatehouseVersion(),
      urls,
      headers: gatehouseHeaders(key),
      cpu: () => ({ gateway: procs.reduce((n, p) => n + cpuMs(p.pid), 0), postgres: services.postgresCpuMs(), redis: services.redisCpuMs() }),
      peakRssMb: () => procs.map((p) => memoryMb(p.pid).peak),
      serviceOps: async () => {
        const { info: _ours, ...redisCommands } = await services.redisCommands();
        return { redisCommands, pgWriteTransactions: await pgWriteXid(databaseUrl) };
      },
      databaseUrl,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
