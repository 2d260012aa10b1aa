import type { LoadResult } from './loadgen.js';
import { round } from './stats.js';
import type { SystemName } from './systems.js';

export interface SystemResult {
  system: SystemName;
  version: string;
  saturation?: LoadResult;
  cpuMsPerRequest?: number;
  /** Share of one CPU the system used during saturation (1 = a full core: it was the bottleneck). */
  cpuShare?: number;
  rates: Record<number, LoadResult>;
  hold?: LoadResult;
  peakRssMb?: number;
}

export interface Report {
  date: string;
  quick: boolean;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; kernel: string };
  pinning: string;
  /** How each run was driven, and what each system had switched on. */
  method: string[];
  scenarios: Array<{ id: string; title: string; requestBytes: number; results: SystemResult[] }>;
  /** The guardrail scan alone, on the system's CPU: a Claude Code-sized body with no matches. */
  guardrails?: GuardrailScan;
  /** Full-body logging of one 100-turn Claude Code session. */
  sessionStorage?: SessionStorage;
  /** One instance on SQLite against two on PostgreSQL and Redis (scale.ts). */
  scale?: ScaleReport;
}

import type { SessionStorage } from './session-storage.js';
import { renderScale, type ScaleReport } from './scale-report.js';

export interface GuardrailScan {
  body_bytes: number;
  median_ms: number;
  p95_ms: number;
  guardrails: unknown;
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '-' : String(round(x, d)));

function find(r: SystemResult[], s: SystemName) {
  return r.find((x) => x.system === s);
}

/** One line per target of the benchmark issue, computed from this run only. */
export function targets(report: Report): string[] {
  const out: string[] = [];
  const sc = (id: string) => report.scenarios.find((s) => s.id === id)?.results ?? [];
  const check = (ok: boolean | undefined, text: string) => out.push(`- ${ok === undefined ? '?' : ok ? 'met' : 'NOT met'}: ${text}`);
  for (const id of ['A', 'C']) {
    const g = find(sc(id), 'gatehouse')?.saturation?.rps;
    const b = find(sc(id), 'bare-proxy')?.saturation?.rps;
    const p = find(sc(id), 'portkey')?.saturation?.rps;
    check(g && b ? g / b >= 0.7 : undefined, `${id}: Gatehouse throughput ${f(g)} req/s = ${g && b ? f((100 * g) / b, 0) : '-'}% of the bare proxy (target >= 70%)`);
    check(g && p ? g / p >= 2 : undefined, `${id}: Gatehouse throughput = ${g && p ? f(g / p, 2) : '-'}x Portkey's (target >= 2x)`);
  }
  const a500 = find(sc('A'), 'gatehouse')?.rates[500];
  const d500 = find(sc('A'), 'direct')?.rates[500];
  if (a500 && d500) {
    const p50 = a500.latencyMs.p50 - d500.latencyMs.p50;
    const p99 = a500.latencyMs.p99 - d500.latencyMs.p99;
    check(p50 <= 1, `A at 500 req/s: added latency p50 ${f(p50, 2)} ms (target <= 1 ms)`);
    check(p99 <= 5, `A at 500 req/s: added latency p99 ${f(p99, 2)} ms (target <= 5 ms)`);
  }
  for (const id of ['B', 'C']) {
    const g = find(sc(id), 'gatehouse');
    const d = find(sc(id), 'direct');
    const rate = Object.keys(g?.rates ?? {})[0];
    if (g && d && rate) {
      const added = g.rates[Number(rate)]!.ttfbMs.p50 - d.rates[Number(rate)]!.ttfbMs.p50;
      check(added <= 1, `${id} at ${rate} req/s: added time to first byte p50 ${f(added, 2)} ms (target <= 1 ms)`);
    }
  }
  const gs = report.guardrails;
  if (gs) check(gs.median_ms < 2, `Guardrail scan of a ${f(gs.body_bytes / 1000, 0)} KB request: median ${f(gs.median_ms, 3)} ms, p95 ${f(gs.p95_ms, 3)} ms (target < 2 ms)`);
  const ss = report.sessionStorage;
  if (ss) {
    const mb = (b: number) => f(b / 1e6, 2);
    check(ss.second_half_over_first < 1.2, `Body storage of a ${ss.turns}-turn session: ${mb(ss.stored_bytes)} MB stored for ${mb(ss.sent_bytes)} MB sent; the second half of the session added ${f(ss.second_half_over_first, 2)}x what the first took (sent: ${f(ss.sent_second_half_over_first, 2)}x) (target: linear, <= 1.2x)`);
  }
  const dg = find(sc('D'), 'gatehouse');
  if (dg?.peakRssMb !== undefined) check(dg.peakRssMb <= 200, `D: Gatehouse peak RSS ${f(dg.peakRssMb, 0)} MB with ${dg.hold?.completed ?? 0} streams (target <= 200 MB with 1,000)`);
  return out;
}

export function renderMarkdown(r: Report): string {
  const lines = [
    `# Benchmark results${r.quick ? ' (quick run: short, for CI; not for comparison)' : ''}`,
    '',
    `Run ${r.date} on ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, Node ${r.machine.node}, Linux ${r.machine.kernel}.`,
    `Pinning: ${r.pinning}. All traffic on loopback. Produced by \`npm run bench\`; raw figures in \`bench/results/\`.`,
    '',
    '## Method',
    '',
    ...r.method.map((m) => `- ${m}`),
    '',
    '## Targets',
    '',
    ...targets(r),
    '',
  ];
  for (const sc of r.scenarios) {
    const direct = find(sc.results, 'direct');
    const bare = find(sc.results, 'bare-proxy');
    lines.push(`## ${sc.id}: ${sc.title}`, '', `Request body ${f(sc.requestBytes / 1024, 1)} KB.`, '');
    if (sc.results.some((x) => x.saturation)) {
      const rates = Object.keys(sc.results[0]?.rates ?? {});
      const head = ['system', 'req/s (saturation)', 'vs bare proxy', 'CPU ms/req', 'CPU share', 'peak RSS MB'];
      for (const rate of rates) head.push(`@${rate}/s added p50 ms`, `@${rate}/s added p99 ms`, `@${rate}/s added TTFB p50 ms`);
      lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
      for (const x of sc.results) {
        const row = [
          `${x.system}${x.version !== '-' ? ` (${x.version})` : ''}`,
          f(x.saturation?.rps, 0),
          bare?.saturation && x.saturation ? `${f((100 * x.saturation.rps) / bare.saturation.rps, 0)}%` : '-',
          x.system === 'direct' ? '-' : f(x.cpuMsPerRequest, 3),
          x.system === 'direct' ? '-' : f(x.cpuShare, 2),
          x.system === 'direct' ? '-' : f(x.peakRssMb, 0),
        ];
        for (const rate of rates) {
          const mine = x.rates[Number(rate)];
          const base = direct?.rates[Number(rate)];
          const d = (k: 'p50' | 'p99', m: 'latencyMs' | 'ttfbMs') => (mine && base ? f(mine[m][k] - base[m][k], 2) : '-');
          row.push(x.system === 'direct' ? `(${f(mine?.latencyMs.p50, 2)})` : d('p50', 'latencyMs'), x.system === 'direct' ? `(${f(mine?.latencyMs.p99, 2)})` : d('p99', 'latencyMs'), x.system === 'direct' ? `(${f(mine?.ttfbMs.p50, 2)})` : d('p50', 'ttfbMs'));
        }
        lines.push(`| ${row.join(' | ')} |`);
      }
      const errs = sc.results.filter((x) => (x.saturation?.errors ?? 0) + Object.values(x.rates).reduce((n, v) => n + v.errors, 0) > 0);
      for (const x of errs) lines.push('', `${x.system}: errors during the run (${x.saturation?.firstError ?? Object.values(x.rates).find((v) => v.firstError)?.firstError}).`);
      lines.push('', 'Direct rows show the absolute figures in parentheses; the other rows add over them. CPU share is the fraction of one core the system used at saturation.', '');
    }
    if (sc.results.some((x) => x.hold)) {
      lines.push('| system | streams completed | errors | peak RSS MB | probe latency p50 / p99 / max ms |', '|---|---|---|---|---|');
      for (const x of sc.results) {
        const h = x.hold;
        lines.push(`| ${x.system} | ${h?.completed ?? '-'} | ${h?.errors ?? '-'} | ${x.system === 'direct' ? '-' : f(x.peakRssMb, 0)} | ${h?.probeMs ? `${f(h.probeMs.p50, 2)} / ${f(h.probeMs.p99, 2)} / ${f(h.probeMs.max, 2)}` : '-'} |`);
      }
      lines.push('', 'The probe is a small request sent every 100 ms while the streams run: its latency shows how responsive the event loop stays.', '');
    }
  }
  if (r.scale) lines.push(...renderScale(r.scale));
  return lines.join('\n') + '\n';
}
