// The load generator runs in its own process (pinned apart from the system under test) and
// prints one JSON result. Latency is measured from the moment a request was due, so a slow
// system cannot hide queueing (no coordinated omission in the fixed-rate mode).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentiles, round } from './stats.js';

export interface LoadSpec {
  mode: 'saturate' | 'rate' | 'hold';
  url: string;
  /**
   * Several instances of one system: requests go to them in turn, one Pool each (client-side
   * balancing, standing in for a load balancer). Overrides `url` for the load; probes use `url`.
   */
  urls?: string[];
  path: string;
  headers: Record<string, string>;
  bodyFile: string;
  connections: number;
  durationMs: number;
  /** rate mode: requests per second. */
  rate?: number;
  /** hold mode: concurrent streams, and a path probed every 100 ms meanwhile. */
  streams?: number;
  probePath?: string;
  probeHeaders?: Record<string, string>;
}

export interface LoadResult {
  completed: number;
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  latencyMs: ReturnType<typeof percentiles>;
  ttfbMs: ReturnType<typeof percentiles>;
  probeMs?: ReturnType<typeof percentiles>;
  /** With `urls`: requests completed by each instance, in order (shows the spread was even). */
  perUrl?: number[];
}

interface Target {
  pool: Pool;
  completed: number;
}

async function one(target: Target, spec: LoadSpec, body: Buffer, due: number, lat: number[], ttfb: number[]): Promise<void> {
  const res = await target.pool.request({ path: spec.path, method: 'POST', headers: spec.headers, body });
  let first = true;
  for await (const _chunk of res.body) {
    if (first) {
      ttfb.push(performance.now() - due);
      first = false;
    }
  }
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  lat.push(performance.now() - due);
  target.completed++;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const body = readFileSync(spec.bodyFile);
  // Each pool may open up to `connections`; the closed loop still has only `connections` requests
  // in flight in total, so spreading them changes where they go, not how many there are.
  const targets: Target[] = (spec.urls ?? [spec.url]).map((u) => ({ pool: new Pool(u, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 }), completed: 0 }));
  let turn = 0;
  const next = (): Target => targets[turn++ % targets.length]!;
  const lat: number[] = [];
  const ttfb: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const fail = (e: unknown) => {
    errors++;
    firstError ??= e instanceof Error ? e.message : String(e);
  };
  const start = performance.now();
  const end = start + spec.durationMs;
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const q = p.catch(fail).finally(() => inflight.delete(q));
    inflight.add(q);
  };

  let probe: number[] | undefined;
  if (spec.mode === 'saturate') {
    await Promise.all(
      Array.from({ length: spec.connections }, async () => {
        while (performance.now() < end) await one(next(), spec, body, performance.now(), lat, ttfb).catch(fail);
      }),
    );
  } else if (spec.mode === 'rate') {
    const interval = 1000 / (spec.rate ?? 100);
    let sent = 0;
    while (performance.now() < end) {
      const now = performance.now();
      // Catch up on every request that is due, each timed from when it was due.
      while (start + sent * interval <= now) {
        track(one(next(), spec, body, start + sent * interval, lat, ttfb));
        sent++;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, start + sent * interval - performance.now())));
    }
    await Promise.all(inflight);
  } else {
    probe = [];
    const streams = spec.streams ?? 100;
    for (let i = 0; i < streams; i++) track(one(next(), spec, body, performance.now(), lat, ttfb));
    const probePool = new Pool(spec.url, { connections: 1 });
    while (inflight.size > 0) {
      const t = performance.now();
      try {
        const r = await probePool.request({ path: spec.probePath ?? '/', method: 'GET', headers: spec.probeHeaders ?? {} });
        await r.body.dump();
        probe.push(performance.now() - t);
      } catch (e) {
        fail(e);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await probePool.close();
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(targets.map((t) => t.pool.close()));
  return {
    completed: lat.length,
    errors,
    firstError,
    seconds: round(seconds, 3),
    rps: round(lat.length / seconds, 1),
    latencyMs: percentiles(lat),
    ttfbMs: percentiles(ttfb),
    ...(probe ? { probeMs: percentiles(probe) } : {}),
    ...(spec.urls ? { perUrl: targets.map((t) => t.completed) } : {}),
  };
}
