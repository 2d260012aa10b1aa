// The scale-out comparison: scenarios A and C at saturation against one Gatehouse on SQLite and
// two Gatehouse instances on one PostgreSQL and one Redis, everything of the system under test on
// CPU 1, with CPU per request split by process group.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLAUDE_CODE_HEADERS } from './bodies.js';
import type { LoadResult, LoadSpec } from './loadgen.js';
import { startPinned } from './procs.js';
import { round } from './stats.js';
import { scaledInstances, singleInstance, type CpuGroups, type ScaleSystem } from './scale-system.js';
import { sizing, type ScaleReport, type ScaleRow, type ScaleScenario } from './scale-report.js';
import { scenarios } from './scenarios.js';
import { countLogRows, startServices, type Services } from './services.js';
import { SYSTEM_CPU } from './systems.js';

const LOAD_CPU = 0;
const BENCH = join(import.meta.dirname, 'bench.mjs');
const SCALE_SCENARIOS = ['A', 'C'];

export interface ScaleOptions {
  quick: boolean;
  dir: string;
  onlyScenarios?: string[];
  runLoadgen(spec: LoadSpec, dir: string): Promise<LoadResult>;
}

export function scaleMethod(quick: boolean): string[] {
  return [
    `Scenarios A and C at saturation (the same closed loop of 50 connections, ${quick ? 0.5 : 2} s warm-up, ${quick ? 2 : 10} s measured), each system started fresh per scenario.`,
    'gatehouse: one instance as above (SQLite store in its data directory, rate limits and budgets counted in memory). gatehouse-scaled: two instances with the same governance config and the same key (limits and budgets on the key, workspace and developer, guardrails, fallback config, cache), plus `store: {kind: "postgres"}` (default pool of 10 connections per instance) and `redis` (exact cross-instance limits and budgets in Lua, invalidation bus, live-event fan-out); the key is created once through the first instance and read by the second from the shared store. gatehouse-pg-redis: one such instance alone, to tell the cost of the hops to PostgreSQL and Redis from that of two gateway processes sharing one core.',
    'PostgreSQL (a throw-away cluster from the test helper: fsync off, as tests run it) and Redis (no persistence) are started once for this part, with a fresh database and key prefix per scenario.',
    'The load generator sends requests to the two instances in turn, one connection pool per instance: client-side round-robin standing in for a load balancer (no balancer process, so none of its cost is counted).',
    `CPU: the gateway instances, the postmaster with every backend and background process it forked, and redis-server all run on CPU ${SYSTEM_CPU} (gateways and the upstream started under taskset; PostgreSQL and Redis pinned with taskset -a -p after start, which backends forked later inherit); load and upstream on CPU ${LOAD_CPU}. CPU ms/req per group comes from /proc/<pid>/stat (PostgreSQL: the postmaster's own and reaped children's time plus every live child's). Redis commands/req from INFO commandstats (the benchmark's own INFO calls excluded; commands run inside Lua scripts count, the number of scripts, EVALSHA, in parentheses); PostgreSQL write transactions/req from the transaction id counter (read transactions take no id, so are not counted). "req/s per gateway core" = 1000 ÷ gateway CPU ms/req; "CPU 1 busy" = all groups' CPU over wall time (near 1: the core was the bottleneck).`,
  ];
}

async function measure(sys: ScaleSystem, bodyFile: string, o: ScaleOptions, connections: number): Promise<ScaleRow> {
  const base: Omit<LoadSpec, 'mode' | 'durationMs'> = { url: sys.urls[0]!, ...(sys.urls.length > 1 ? { urls: sys.urls } : {}), path: '/v1/messages', headers: { ...CLAUDE_CODE_HEADERS, ...sys.headers }, bodyFile, connections };
  await o.runLoadgen({ ...base, mode: 'saturate', durationMs: o.quick ? 500 : 2_000 }, o.dir); // warm-up
  const opsBefore = await sys.serviceOps?.();
  const before = sys.cpu();
  const sat = await o.runLoadgen({ ...base, mode: 'saturate', durationMs: (o.quick ? 2 : 10) * 1000 }, o.dir);
  const after = sys.cpu();
  const opsAfter = await sys.serviceOps?.();
  const used = (k: keyof CpuGroups): number | undefined => {
    const a = after[k];
    const b = before[k];
    return a === undefined || b === undefined ? undefined : a - b;
  };
  const groups = { gateway: used('gateway') ?? NaN, postgres: used('postgres'), redis: used('redis') };
  const total = groups.gateway + (groups.postgres ?? 0) + (groups.redis ?? 0);
  const per = (ms: number | undefined) => (ms === undefined || sat.completed === 0 ? undefined : ms / sat.completed);
  const share = (ms: number | undefined) => (ms === undefined ? undefined : ms / (sat.seconds * 1000));
  const gatewayPerReq = per(groups.gateway) ?? NaN;
  const scaled = sys.name !== 'gatehouse';
  const row: ScaleRow = {
    system: sys.name,
    version: sys.version,
    instances: sys.urls.length,
    store: scaled ? 'postgres' : 'sqlite',
    counters: scaled ? 'redis' : 'memory',
    saturation: sat,
    cpuMsPerRequest: { gateway: gatewayPerReq, postgres: per(groups.postgres), redis: per(groups.redis), total: per(total) ?? NaN },
    cpuShare: { gateway: share(groups.gateway) ?? NaN, postgres: share(groups.postgres), redis: share(groups.redis), total: share(total) ?? NaN },
    rpsPerGatewayCore: 1000 / gatewayPerReq,
    peakRssMb: sys.peakRssMb(),
  };
  if (groups.postgres !== undefined) row.postgresMsPer1000Requests = (1000 * groups.postgres) / sat.completed;
  if (groups.redis !== undefined) row.redisMsPer1000Requests = (1000 * groups.redis) / sat.completed;
  if (opsBefore && opsAfter && sat.completed > 0) {
    const perCommand = Object.entries(opsAfter.redisCommands).map(([c, n]) => [c, (n - (opsBefore.redisCommands[c] ?? 0)) / sat.completed] as const);
    row.redisCommandsPerRequest = perCommand.reduce((n, [, v]) => n + v, 0);
    // Commands a script runs count too; the scripts themselves are the round trips that carry them.
    row.redisScriptsPerRequest = perCommand.reduce((n, [c, v]) => (c === 'evalsha' || c === 'eval' ? n + v : n), 0);
    // The most frequent, to show where the round trips go.
    row.redisTopCommands = Object.fromEntries(perCommand.filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([c, v]) => [c, round(v, 2)]));
    // Minus the one id the second reading took itself.
    row.pgWriteTransactionsPerRequest = (opsAfter.pgWriteTransactions - opsBefore.pgWriteTransactions - 1) / sat.completed;
  }
  return row;
}

export async function runScale(o: ScaleOptions): Promise<ScaleReport> {
  const chosen = scenarios(o.quick).filter((s) => SCALE_SCENARIOS.includes(s.id) && (!o.onlyScenarios || o.onlyScenarios.includes(s.id)));
  const out: ScaleScenario[] = [];
  if (chosen.length === 0) return { method: scaleMethod(o.quick), scenarios: out };
  const started = Date.now();
  const services: Services = await startServices(SYSTEM_CPU);
  console.error(`bench: scale-out: PostgreSQL and Redis ready in ${Date.now() - started} ms`);
  try {
    for (const sc of chosen) {
      const bodyFile = join(o.dir, `scale-body-${sc.id}.json`);
      writeFileSync(bodyFile, sc.body());
      const { proc: up, match } = await startPinned(LOAD_CPU, process.execPath, [BENCH, 'upstream', '--reply', sc.reply, '--pace', String(sc.paceMs)], process.env, /"port":(\d+)/);
      const upstreamUrl = `http://127.0.0.1:${match[1]}`;
      const rows: ScaleRow[] = [];
      try {
        for (const start of [() => singleInstance(upstreamUrl), () => scaledInstances(upstreamUrl, services, 1), () => scaledInstances(upstreamUrl, services, 2)]) {
          const sys = await start();
          try {
            console.error(`bench: scale-out ${sc.id} ${sys.name}...`);
            const row = await measure(sys, bodyFile, o, sc.saturate?.connections ?? 50);
            rows.push(row);
          } finally {
            await sys.stop();
          }
          // Counted after the stop, so rows the log writer still held are flushed.
          const last = rows[rows.length - 1];
          if (sys.databaseUrl && last) last.logRows = await countLogRows(sys.databaseUrl);
        }
      } finally {
        await up.stop();
      }
      out.push({ id: sc.id, title: sc.title, requestBytes: readFileSync(bodyFile).length, rows });
    }
  } finally {
    await services.close();
  }
  return { method: scaleMethod(o.quick), scenarios: out, sizing: sizing(out) };
}
