// The scale-out part of the report: its figures, the sizing derived from them (never written by
// hand: a deploy guide quotes what the last run measured), and its markdown section.
import type { LoadResult } from './loadgen.js';
import type { CpuGroups, ScaleSystemName } from './scale-system.js';
import { round } from './stats.js';

export interface ScaleRow {
  system: ScaleSystemName;
  version: string;
  instances: number;
  store: 'sqlite' | 'postgres';
  counters: 'memory' | 'redis';
  saturation: LoadResult;
  cpuMsPerRequest: CpuGroups & { total: number };
  /** Fraction of one core each group used while measured (total near 1: CPU 1 was the bottleneck). */
  cpuShare: CpuGroups & { total: number };
  /** 1000 / gateway CPU ms per request: what one core of gateway instances serves. */
  rpsPerGatewayCore: number;
  postgresMsPer1000Requests?: number;
  redisMsPer1000Requests?: number;
  /** Commands Redis executed per request (INFO commandstats) and PostgreSQL transactions that wrote (xid counter). */
  redisCommandsPerRequest?: number;
  /** EVALSHA/EVAL calls per request (their inner commands are in redisCommandsPerRequest). */
  redisScriptsPerRequest?: number;
  pgWriteTransactionsPerRequest?: number;
  /** The five most frequent Redis commands, per request. */
  redisTopCommands?: Record<string, number>;
  peakRssMb: number[];
  /** Rows in the shared log table after the run (scaled only). */
  logRows?: number;
}

export interface ScaleScenario {
  id: string;
  title: string;
  requestBytes: number;
  rows: ScaleRow[];
}

export interface Sizing {
  developers: number;
  /** Share of developers with a request loop running at the busiest time. */
  activeShare: number;
  /** Seconds between one active developer's requests (Claude Code's agentic loop). */
  secondsPerRequest: number;
  peakRps: number;
  /** Which measured row the sizing is from. */
  basis: { scenario: string; system: ScaleSystemName };
  rpsPerGatewayCore: number;
  /** Gateway cores busy at the peak. */
  gatewayCores: number;
  /** Cores to provision at most half busy, over at least two instances. */
  gatewayCoresProvisioned: number;
  postgresMsPer1000Requests: number;
  redisMsPer1000Requests: number;
  /** Share of one core each uses at the peak. */
  postgresCoresAtPeak: number;
  redisCoresAtPeak: number;
  /** Load on the shared services at the peak, per second. */
  redisCommandsAtPeak: number;
  pgWriteTransactionsAtPeak: number;
}

export interface ScaleReport {
  method: string[];
  scenarios: ScaleScenario[];
  sizing?: Sizing;
}

/** 1,000 developers, 30 % active at the peak, one request each every 6 s: 50 req/s. */
export const SIZING_ASSUMPTION = { developers: 1000, activeShare: 0.3, secondsPerRequest: 6 } as const;
/** Provisioned cores run at most this busy: room for bursts and for losing an instance. */
const TARGET_UTILISATION = 0.5;

/**
 * Sizing on the Claude-Code-shaped scenario (or the last one measured), from one instance on
 * PostgreSQL and Redis: deployed, each instance has its own core. Two instances squeezed onto the
 * benchmark's one system core mostly measure their context switches (every Redis and PostgreSQL
 * round trip wakes the other process), so that row is a floor, not a rate per core.
 */
export function sizing(scenarios: ScaleScenario[]): Sizing | undefined {
  const sc = scenarios.find((s) => s.id === 'C') ?? scenarios[scenarios.length - 1];
  const row = sc?.rows.find((r) => r.system === 'gatehouse-pg-redis') ?? sc?.rows.find((r) => r.system === 'gatehouse-scaled');
  if (!sc || !row || !(row.rpsPerGatewayCore > 0)) return undefined;
  const { developers, activeShare, secondsPerRequest } = SIZING_ASSUMPTION;
  const peakRps = (developers * activeShare) / secondsPerRequest;
  const gatewayCores = peakRps / row.rpsPerGatewayCore;
  const pg = row.postgresMsPer1000Requests ?? NaN;
  const redis = row.redisMsPer1000Requests ?? NaN;
  return {
    developers,
    activeShare,
    secondsPerRequest,
    peakRps,
    basis: { scenario: sc.id, system: row.system },
    rpsPerGatewayCore: row.rpsPerGatewayCore,
    gatewayCores: round(gatewayCores, 3),
    gatewayCoresProvisioned: Math.max(2, Math.ceil(gatewayCores / TARGET_UTILISATION)),
    postgresMsPer1000Requests: pg,
    redisMsPer1000Requests: redis,
    postgresCoresAtPeak: round((pg * peakRps) / 1e6, 4),
    redisCoresAtPeak: round((redis * peakRps) / 1e6, 4),
    redisCommandsAtPeak: round((row.redisCommandsPerRequest ?? NaN) * peakRps, 0),
    pgWriteTransactionsAtPeak: round((row.pgWriteTransactionsPerRequest ?? NaN) * peakRps, 0),
  };
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '-' : String(round(x, d)));
const pct = (x: number) => `${f(100 * x, 1)} %`;

export function renderScale(s: ScaleReport): string[] {
  const lines = ['## Scale-out: one instance on SQLite against two on PostgreSQL and Redis', '', ...s.method.map((m) => `- ${m}`), ''];
  const head = ['scenario', 'system', 'req/s (saturation)', 'p50 ms', 'p99 ms', 'gateway CPU ms/req', 'PostgreSQL CPU ms/req', 'Redis CPU ms/req', 'total CPU ms/req', 'req/s per gateway core', 'Redis commands/req (scripts)', 'PostgreSQL write tx/req', 'CPU 1 busy', 'requests per instance', 'peak RSS MB per instance'];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const sc of s.scenarios) {
    for (const r of sc.rows) {
      const c = r.cpuMsPerRequest;
      lines.push(
        `| ${sc.id} | ${r.system} (${r.instances} × ${r.store}, counters in ${r.counters}) | ${f(r.saturation.rps, 0)} | ${f(r.saturation.latencyMs.p50, 2)} | ${f(r.saturation.latencyMs.p99, 2)} | ${f(c.gateway, 3)} | ${f(c.postgres, 3)} | ${f(c.redis, 3)} | ${f(c.total, 3)} | ${f(r.rpsPerGatewayCore, 0)} | ${r.redisCommandsPerRequest === undefined ? '-' : `${f(r.redisCommandsPerRequest, 0)} (${f(r.redisScriptsPerRequest, 1)})`} | ${f(r.pgWriteTransactionsPerRequest, 2)} | ${f(r.cpuShare.total, 2)} | ${(r.saturation.perUrl ?? [r.saturation.completed]).join(' / ')} | ${r.peakRssMb.map((m) => f(m, 0)).join(' / ')} |`,
      );
    }
  }
  lines.push('');
  for (const sc of s.scenarios) {
    for (const r of sc.rows) {
      if (r.saturation.errors > 0) lines.push(`${sc.id} ${r.system}: ${r.saturation.errors} errors (${r.saturation.firstError}).`, '');
      if (r.logRows !== undefined) lines.push(`${sc.id} ${r.system}: ${r.logRows} log rows in the shared PostgreSQL database after the run (for the measured and the warm-up requests).`, '');
      if (r.redisTopCommands) lines.push(`${sc.id} ${r.system}: most frequent Redis commands per request: ${Object.entries(r.redisTopCommands).map(([c, n]) => `${c} ${f(n, 1)}`).join(', ')}.`, '');
    }
  }
  const z = s.sizing;
  if (z) {
    lines.push(
      '### Sizing',
      '',
      `Computed from scenario ${z.basis.scenario} of ${z.basis.system} in this run. Assumption: an organisation of ${z.developers.toLocaleString('en-US')} developers, ${f(100 * z.activeShare, 0)} % of them active at the busiest time, each sending one request every ${z.secondsPerRequest} s in Claude Code's agentic loop: a peak of ${f(z.peakRps, 0)} req/s. ` +
        `One gateway core serves ${f(z.rpsPerGatewayCore, 0)} req/s, so the peak keeps ${f(z.gatewayCores, 2)} gateway cores busy; provisioned at most ${f(100 * TARGET_UTILISATION, 0)} % busy (bursts, losing an instance) and over at least two instances, that is ${z.gatewayCoresProvisioned} gateway cores. ` +
        `PostgreSQL uses ${f(z.postgresMsPer1000Requests, 0)} ms and Redis ${f(z.redisMsPer1000Requests, 0)} ms of CPU per 1,000 requests: at the peak, ${pct(z.postgresCoresAtPeak)} and ${pct(z.redisCoresAtPeak)} of one core, for ${f(z.pgWriteTransactionsAtPeak, 0)} PostgreSQL write transactions and ${f(z.redisCommandsAtPeak, 0)} Redis commands a second. ` +
        'Scale linearly for other organisations (cores = peak req/s ÷ req/s per gateway core); figures are for this machine\'s cores and the upstream on loopback, without TLS. ' +
        'The rate per core is that of one instance with a core to itself, as deployed; the two instances above share the benchmark\'s one system core, where each round trip to PostgreSQL or Redis switches between them, so their rate is a floor.',
      '',
    );
  }
  return lines;
}
