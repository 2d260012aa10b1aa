// The shared services of the scaled system: one throw-away PostgreSQL cluster and one throw-away
// redis-server (the test helpers' own), pinned to the system's CPU with the gateways so that
// everything the deployment runs competes for the same core, and their CPU measured per group.
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, PgCluster } from '../test/helpers/postgres.js';
import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { childPids, cpuMs, pinRunning, treeCpuMs } from './procs.js';

export interface Services {
  redisUrl: string;
  /** A fresh, empty database on the cluster (one per scenario, so each starts from nothing). */
  database(): Promise<string>;
  /** Cumulative CPU ms of the postmaster and all its backends (live or exited). */
  postgresCpuMs(): number;
  redisCpuMs(): number;
  /** Commands Redis has executed since it started (INFO commandstats), by command. */
  redisCommands(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * pg_ctl daemonises the postmaster under runuser, so it cannot be started under taskset through
 * the helper; its pid is the first line of postmaster.pid. Pinning it and its children after
 * start is enough: every backend opened later is forked from it and inherits the mask.
 */
function postmasterPid(cluster: PgCluster): number {
  const pid = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${cluster.dir}/data/postmaster.pid`);
  return pid;
}

/** The helper does not expose the redis-server pid; it is the redis-server serving our port. */
function redisPid(port: number): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'redis-server') continue;
      // Redis rewrites its title to "redis-server 127.0.0.1:<port>"; the original argv has "--port <port>".
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(`:${port}`) || cmd.includes(`--port ${port} `)) return Number(name);
    } catch {
      // Exited while we looked.
    }
  }
  throw new Error(`no redis-server process found for port ${port}`);
}

export async function startServices(cpu: number): Promise<Services> {
  const cluster = await PgCluster.create();
  let redis: TestRedis | undefined;
  try {
    const postmaster = postmasterPid(cluster);
    for (const pid of [postmaster, ...childPids(postmaster)]) pinRunning(pid, cpu);
    redis = await startRedis();
    const rpid = redisPid(redis.port);
    pinRunning(rpid, cpu);
    const r = redis;
    return {
      redisUrl: r.url,
      database: () => createDatabase(cluster.adminUrl),
      postgresCpuMs: () => treeCpuMs(postmaster),
      redisCpuMs: () => cpuMs(rpid),
      redisCommands: () => redisCommandStats(r.port),
      close: async () => {
        await r.close();
        cluster.destroy();
      },
    };
  } catch (e) {
    await redis?.close();
    cluster.destroy();
    throw e;
  }
}

/** Rows in the shared log table: proof that the requests were really logged in PostgreSQL. */
export async function countLogRows(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM logs');
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/**
 * `INFO commandstats` over a raw socket (RESP inline command), so the benchmark bundle need not
 * load a Redis client into every one of its processes. Our own INFO calls count as `info`.
 */
export function redisCommandStats(port: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.once('error', reject);
    s.once('connect', () => s.write('INFO commandstats\r\n'));
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      const header = /^\$(\d+)\r\n/.exec(buf);
      if (!header || Buffer.byteLength(buf) < header[0].length + Number(header[1])) return;
      s.destroy();
      const out: Record<string, number> = {};
      for (const m of buf.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
      resolve(out);
    });
  });
}

/**
 * The cluster's transaction id counter. A transaction takes an id only when it writes, so the
 * difference over a run counts write transactions, exactly and at once (pg_stat_database's
 * counters lag by up to ten seconds). Each call takes one id itself.
 */
export async function pgWriteXid(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT pg_current_xact_id()::text::bigint AS n');
    return Number(rows[0]?.n ?? NaN);
  } finally {
    await client.end();
  }
}
