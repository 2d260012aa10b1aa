// `npm run bench [-- --quick] [-- --systems a,b]`: every scenario against every system, in one
// run, on loopback, then the scale-out comparison (scale.ts; `--no-scale` skips it, `--scale`
// runs it alone). The system under test is pinned to CPU 1; the load generator and the
// upstream share CPU 0, so load generation never takes the system's CPU.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CLAUDE_CODE_HEADERS } from './bodies.js';
import type { LoadResult, LoadSpec } from './loadgen.js';
import { cpuMs, memoryMb, startPinned } from './procs.js';
import { runScale } from './scale.js';
import { renderMarkdown, type GuardrailScan, type Report, type SystemResult } from './report.js';
import type { SessionStorage } from './session-storage.js';
import { scenarios, type Scenario } from './scenarios.js';
import { bareProxy, direct, gatehouse, portkey, type System, type SystemName } from './systems.js';

const LOAD_CPU = 0;
const BENCH = join(import.meta.dirname, 'bench.mjs');
const OUT = join(import.meta.dirname, '..', 'results');

/** The guardrail engine alone, pinned to the system's CPU like the gateway. */
function guardrailScan(): GuardrailScan {
  return JSON.parse(execFileSync('taskset', ['-c', '1', process.execPath, BENCH, 'guardrails'], { encoding: 'utf8' })) as GuardrailScan;
}

export function runLoadgen(spec: LoadSpec, dir: string): Promise<LoadResult> {
  const file = join(dir, `spec-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(LOAD_CPU), process.execPath, BENCH, 'loadgen', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`loadgen exited ${code}: ${out}`))));
  });
}

const STARTERS: Record<Exclude<SystemName, 'direct'>, (upstream: string) => Promise<System>> = { 'bare-proxy': bareProxy, gatehouse, portkey };

async function measure(sc: Scenario, sys: System, bodyFile: string, dir: string, quick: boolean): Promise<SystemResult> {
  const seconds = quick ? 2 : 10;
  const base = { url: sys.url, path: '/v1/messages', headers: { ...CLAUDE_CODE_HEADERS, ...sys.headers }, bodyFile };
  const result: SystemResult = { system: sys.name, version: sys.version, rates: {} };
  if (sc.saturate) {
    await runLoadgen({ ...base, mode: 'saturate', connections: sc.saturate.connections, durationMs: quick ? 500 : 2_000 }, dir); // warm-up
    const before = cpuMs(sys.pid);
    const sat = await runLoadgen({ ...base, mode: 'saturate', connections: sc.saturate.connections, durationMs: seconds * 1000 }, dir);
    result.saturation = sat;
    result.cpuMsPerRequest = sat.completed > 0 ? (cpuMs(sys.pid) - before) / sat.completed : NaN;
    result.cpuShare = (cpuMs(sys.pid) - before) / (sat.seconds * 1000);
  }
  for (const rate of sc.rates) {
    result.rates[rate] = await runLoadgen({ ...base, mode: 'rate', rate, connections: Math.min(1024, rate), durationMs: seconds * 1000 }, dir);
  }
  if (sc.hold) {
    result.hold = await runLoadgen({ ...base, mode: 'hold', streams: sc.hold.streams, connections: sc.hold.streams, durationMs: 0, probePath: sys.probePath, probeHeaders: sys.headers }, dir);
  }
  result.peakRssMb = memoryMb(sys.pid).peak;
  return result;
}

export async function runBench(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const only = argv.find((a) => a.startsWith('--systems='))?.slice('--systems='.length).split(',');
  const onlyScenarios = argv.find((a) => a.startsWith('--scenarios='))?.slice('--scenarios='.length).split(',');
  // --scale: the scale-out comparison alone; --no-scale, or a --systems list without it, skips it.
  const scaleOnly = argv.includes('--scale');
  const withScale = scaleOnly || (!argv.includes('--no-scale') && (!only || only.includes('gatehouse-scaled')));
  const systems: SystemName[] = scaleOnly ? [] : (['direct', 'bare-proxy', 'gatehouse', 'portkey'] as const).filter((s) => !only || only.includes(s));
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-run-'));
  const report: Report = {
    date: new Date().toISOString(),
    quick,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim() },
    pinning: `system under test on CPU 1; load generator and upstream on CPU ${LOAD_CPU} (taskset)`,
    method: [
      `Each system is started fresh for each scenario (so peak RSS is that scenario's), warmed up ${quick ? 0.5 : 2} s, then measured.`,
      `Saturation: a closed loop of N connections for ${quick ? 2 : 10} s (50 connections; fewer left the systems below saturation in C, measuring latency instead of throughput). CPU ms/req and CPU share come from /proc/<pid>/stat of the system's process.`,
      `Fixed rates: an open loop (requests sent when due, latency timed from when due, so queueing is not hidden) for ${quick ? 2 : 10} s. "Added" = the system's percentile minus the direct run's at the same rate. TTFB = first body byte.`,
      'Upstream: replies built once and sent from memory (the test emulator\'s byte format), no added latency; D paces its 200 events ' + (quick ? '20' : '100') + ' ms apart.',
      'Gatehouse runs as shipped: node --max-semi-space-size=32 (its bin, npm start and the systemd units set it). Gatehouse: key authentication (hashed key, workspace, metadata), key and workspace policy (allowed model patterns, required metadata), request, token and concurrency limits on the key, the workspace and the developer, USD and token budgets on the key, the workspace and the developer (reserved before each request, checked on every chunk of a stream, settled from the usage), guardrails on every request (secrets deny, PII flag, blocked words), pricing from the usage, Messages body validation and indexing, a two-target fallback routing config, the response cache (keys computed and answers stored on every request; force-refresh so it never serves a hit), header hygiene, CORS, streaming relay with abort propagation. Every limit and budget is set high enough never to refuse: their checks are measured, not their refusals.',
      'Bare proxy: node:http + one undici Pool, headers copied, bodies piped both ways; no auth, no validation (the practical floor).',
      "Portkey: @portkey-ai/gateway with provider anthropic and x-portkey-custom-host at the upstream (its documented Claude Code set-up; @hono/node-server overridden to 2.x, which its streaming needs). It rebuilds the body from an allow-list, so it sends less than it receives.",
    ],
    scenarios: [],
  };
  try {
    for (const sc of scenarios(quick).filter((s) => !scaleOnly && (!onlyScenarios || onlyScenarios.includes(s.id)))) {
      const bodyFile = join(dir, `body-${sc.id}.json`);
      writeFileSync(bodyFile, sc.body());
      const { proc: up, match } = await startPinned(LOAD_CPU, process.execPath, [BENCH, 'upstream', '--reply', sc.reply, '--pace', String(sc.paceMs)], process.env, /"port":(\d+)/);
      const upstreamUrl = `http://127.0.0.1:${match[1]}`;
      const results: SystemResult[] = [];
      try {
        for (const name of systems) {
          const sys = name === 'direct' ? direct(upstreamUrl, up.pid) : await STARTERS[name](upstreamUrl);
          try {
            console.error(`bench: ${sc.id} ${name}...`);
            results.push(await measure(sc, sys, bodyFile, dir, quick));
            console.error(`bench: ${sc.id} ${name} done`);
          } finally {
            await sys.stop();
          }
        }
      } finally {
        await up.stop();
      }
      report.scenarios.push({ id: sc.id, title: sc.title, requestBytes: readFileSync(bodyFile).length, results });
    }
    if (withScale) {
      const started = Date.now();
      report.scale = await runScale({ quick, dir, onlyScenarios, runLoadgen });
      console.error(`bench: scale-out part took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(OUT, { recursive: true });
  if (!scaleOnly && (!only || only.includes('gatehouse'))) {
    report.guardrails = guardrailScan();
    report.sessionStorage = JSON.parse(execFileSync(process.execPath, [BENCH, 'session-storage'], { encoding: 'utf8' })) as SessionStorage;
  }
  // A scale-only run is a part of the report: its own file, and RESULTS.md is left as it was.
  const stamp = report.date.slice(0, 10) + (quick ? '-quick' : '') + (scaleOnly ? '-scale' : '');
  writeFileSync(join(OUT, `${stamp}.json`), JSON.stringify(report, null, 2) + '\n');
  const md = renderMarkdown(report);
  if (!quick && !scaleOnly) writeFileSync(join(import.meta.dirname, '..', 'RESULTS.md'), md);
  console.log(md);
}
