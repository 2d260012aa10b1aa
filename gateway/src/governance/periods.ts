import type { BudgetPeriod } from '../config/schema.js';

/**
 * Budget periods on the calendar of a time zone: a day starts at local midnight, a week on
 * Monday, a month on the 1st. DST days are 23 or 25 hours long, as the people who set the budget
 * expect. Intl does the zone arithmetic; formatters are costly to build, so each is made once.
 */
export interface PeriodWindow {
  /** Names the period for storage, e.g. `day:2026-11-22`, `month:2026-11`, `lifetime`. */
  key: string;
  start: number;
  /** When the next period starts (ms); null for lifetime. */
  end: number | null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

interface Wall {
  y: number;
  m: number;
  d: number;
  h: number;
  min: number;
  s: number;
}

function wall(at: number, tz: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, min: parts.minute!, s: parts.second! };
}

/** The zone's offset from UTC at an instant, in ms. */
function offset(at: number, tz: string): number {
  const w = wall(at, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(at / 1000) * 1000;
}

/** The instant of local midnight starting the given calendar date (which may overflow: day 32 → next month). */
function localMidnight(y: number, m: number, d: number, tz: string): number {
  const guess = Date.UTC(y, m - 1, d);
  // Two passes settle the offset across a DST change.
  let at = guess - offset(guess, tz);
  at = guess - offset(at, tz);
  return at;
}

const pad = (n: number) => String(n).padStart(2, '0');

// Intl's zone arithmetic costs microseconds per call and every request asks for each of its
// budgets' windows: the current window of each (period, zone) is kept until it ends.
const current = new Map<string, PeriodWindow>();
const LIFETIME: PeriodWindow = Object.freeze({ key: 'lifetime', start: 0, end: null });

export function periodWindow(period: BudgetPeriod, tz: string, now: number): PeriodWindow {
  if (period === 'lifetime') return LIFETIME;
  const id = `${period}|${tz}`;
  const known = current.get(id);
  if (known && known.start <= now && known.end !== null && now < known.end) return known;
  const w = Object.freeze(computeWindow(period, tz, now));
  current.set(id, w);
  return w;
}

function computeWindow(period: Exclude<BudgetPeriod, 'lifetime'>, tz: string, now: number): PeriodWindow {
  const w = wall(now, tz);
  if (period === 'day') {
    return { key: `day:${w.y}-${pad(w.m)}-${pad(w.d)}`, start: localMidnight(w.y, w.m, w.d, tz), end: localMidnight(w.y, w.m, w.d + 1, tz) };
  }
  if (period === 'week') {
    const weekday = (new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay() + 6) % 7; // Monday = 0
    const first = new Date(Date.UTC(w.y, w.m - 1, w.d - weekday));
    const [y, m, d] = [first.getUTCFullYear(), first.getUTCMonth() + 1, first.getUTCDate()];
    return { key: `week:${y}-${pad(m)}-${pad(d)}`, start: localMidnight(y, m, d, tz), end: localMidnight(y, m, d + 7, tz) };
  }
  return { key: `month:${w.y}-${pad(w.m)}`, start: localMidnight(w.y, w.m, 1, tz), end: localMidnight(w.y, w.m + 1, 1, tz) };
}

/** "in 5 h 3 min" for people reading an error. */
export function untilText(ms: number): string {
  const min = Math.max(1, Math.ceil(ms / 60_000));
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  return ['in', d && `${d} d`, h && `${h} h`, m && `${m} min`].filter(Boolean).join(' ');
}
