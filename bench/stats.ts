/** Percentiles over a sample (sorted copy; samples here are at most a few hundred thousand). */
export function percentiles(samples: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  if (samples.length === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1]! };
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
