/** Aligned tables and the number formats the CLI shows people (`--json` prints the API's own values). */

export interface Column<T> {
  header: string;
  cell: (row: T) => string;
  /** Numbers line up on the right. */
  right?: boolean;
}

/** A header line and one line per row, columns two spaces apart, no trailing spaces. */
export function table<T>(cols: ReadonlyArray<Column<T>>, rows: readonly T[]): string {
  const cells = [cols.map((c) => c.header), ...rows.map((r) => cols.map((c) => c.cell(r)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((v, i) => (cols[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `$0.0123`: small amounts keep four significant digits, so a cheap request is not `$0.00`. */
export function usd(n: number | null): string {
  if (n === null) return 'unpriced';
  if (n === 0) return '$0';
  if (Math.abs(n) >= 1) return `$${n.toFixed(2)}`;
  const decimals = Math.min(12, Math.max(2, 3 - Math.floor(Math.log10(Math.abs(n)))));
  return `$${n.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** `1,234,567`. */
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `840 ms`, `12.3 s`; `-` when unknown. */
export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;
}

/** `2026-11-22 10:00:01Z`: UTC to the second, as the API's times are. */
export const time = (iso: string | null): string => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

/** `team=support env=prod`, cut to `max` characters. */
export function compactMeta(m: Readonly<Record<string, string>>, max = 40): string {
  const s = Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ');
  if (!s) return '-';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** An amount in a budget's unit. */
export const amount = (unit: 'usd' | 'tokens', n: number): string => (unit === 'usd' ? usd(n) : `${int(n)} tokens`);
