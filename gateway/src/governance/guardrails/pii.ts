import type { PiiKind } from './schema.js';
import { eachIndex, isAlnum, isDigit, isUpper, leftEdge, rightEdge, STOP, type OnMatch, type ScanFn } from './scan.js';

/**
 * PII detectors. Emails are found from their "@". Numbers (cards, phones, IBANs, SSNs, NINOs)
 * from a "seed": nine digits in a row, three digits, a separator and four ("555-2671", the
 * "111 1111" of a spaced card or IBAN), an SSN's 3-2-4, two digits and eight (NL), pairs
 * ("06 12 34 56 78"), a NINO's six digits and letter; international numbers from their "+". The
 * seed is written out digit by digit so that V8 can skip ahead by its length (`\d{9}` is four
 * times slower). Around a seed, the run of digits, separators and capitals is counted once, and
 * only the kinds it can hold run their regex on it, with checksums (Luhn, mod-97) last.
 */

const SEED = /\d\d(?:\d(?:\d\d\d\d\d\d|[ .-]\d\d\d\d|-\d\d-\d\d\d\d)|[ -]\d\d\d\d\d\d\d\d|[ .]\d\d[ .]\d\d[ .]\d\d|\d\d\d\d[A-D]| \d\d \d\d ?[A-D])/g;

/**
 * Characters of a number's run: digits, separators, "+", "(", ")", and capitals (IBAN, NINO).
 * Not "/": some JSON writers escape it, and the raw pre-check must see what a text holds.
 */
const RUN = new Uint8Array(128);
for (const c of '0123456789 .-()+ABCDEFGHIJKLMNOPQRSTUVWXYZ') RUN[c.charCodeAt(0)] = 1;
const inRun = (c: number) => c < 128 && RUN[c] === 1;
/** Runs are looked at this far around a seed; the longest match (a spaced IBAN) is 42. */
const REACH = 48;

const CARD = /\d(?:[ -]?\d){12,18}/g;
const SSN = /\d\d\d-\d\d-\d\d\d\d/g;
const PHONE = /\+[1-9]\d{0,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}|\(\d\d\d\) ?\d\d\d[ .-]\d\d\d\d|\d\d\d[ .-]\d\d\d[ .-]\d\d\d\d|0\d{1,4}(?:[ .-]\d{2,8}){1,4}/g;
const IBAN = /[A-Z][A-Z]\d\d(?: ?[A-Z0-9]){10,32}/g;
const NINO = /[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d\d ?\d\d ?\d\d ?[A-D]/g;

// IBAN lengths by country (ECBS registry), so a match stops where the IBAN does.
const IBAN_LENGTHS = new Map<string, number>();
for (const e of ('AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 ' +
  'FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 ' +
  'LY25 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 ' +
  'SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20').split(' ')) IBAN_LENGTHS.set(e.slice(0, 2), Number(e.slice(2)));

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, dbl = false; i >= 0; i--, dbl = !dbl) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616: move the first four characters to the end, letters count 10..35, remainder 1. */
function ibanValid(iban: string): boolean {
  const r = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    rem = isDigit(c) ? (rem * 10 + c - 48) % 97 : (rem * 100 + c - 55) % 97;
  }
  return rem === 1;
}

interface Window {
  s: string;
  raw: boolean;
  /** Where the window starts in s: regexes run on the slice, edges are checked on s. */
  lo: number;
  text: string;
}

type Check = (w: Window, m: RegExpExecArray, start: number, end: number) => number;

/**
 * Runs a kind's regex over the window; `check` returns the end of a match to report, or -1, and
 * a rejected match is tried again one character on (an IBAN can start inside a longer capital
 * run). `seen` keeps a match found from two overlapping windows from being reported twice.
 */
function each(w: Window, re: RegExp, kind: PiiKind, check: Check, seen: Set<string>, on: OnMatch): boolean {
  re.lastIndex = 0;
  for (let m = re.exec(w.text); m; m = re.exec(w.text)) {
    const start = w.lo + m.index;
    const end = check(w, m, start, start + m[0].length);
    if (end < 0) {
      re.lastIndex = m.index + 1;
      continue;
    }
    re.lastIndex = end - w.lo;
    if (seen.has(`${kind}@${start}`)) continue;
    seen.add(`${kind}@${start}`);
    if (on(kind, start, end) === true) return true;
  }
  return false;
}

const edges = (w: Window, start: number, end: number) => leftEdge(w.s, start, w.raw, isAlnum) && rightEdge(w.s, end, isAlnum);
const isSep = (c: number) => c === 32 || c === 45 || c === 46;
/** Not the tail of a longer group sequence ("DE89 3704 0044 …" holds no card or phone). */
const startsGroups = (s: string, start: number) => !(isSep(s.charCodeAt(start - 1)) && isDigit(s.charCodeAt(start - 2)));
const endsGroups = (s: string, end: number) => !(isSep(s.charCodeAt(end)) && isDigit(s.charCodeAt(end + 1)));

const card: Check = (w, m, start, end) => {
  const t = m[0];
  // Not a decimal's fraction (0.30000000000000004), not followed by one.
  const s = w.s;
  if (!edges(w, start, end) || !startsGroups(s, start) || s.charCodeAt(start - 1) === 46 || (s.charCodeAt(end) === 46 && isDigit(s.charCodeAt(end + 1)))) return -1;
  if (t.includes(' ') && t.includes('-')) return -1;
  // Card networks start with 2-6. A card followed by a spaced CVV or date ("… 1111 123") is
  // one run: try the run, then each prefix that ends at a separator.
  const digits = t.replace(/[ -]/g, '');
  if (digits.charCodeAt(0) < 50 || digits.charCodeAt(0) > 54) return -1;
  if (luhn(digits)) return end;
  for (let i = t.length - 1, n = digits.length; i > 0; i--) {
    if (isDigit(t.charCodeAt(i))) n--;
    else if (n >= 13 && n <= 19 && luhn(digits.slice(0, n))) return start + i;
  }
  return -1;
};

const ssn: Check = (w, m, start, end) => {
  const t = m[0];
  const area = Number(t.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900 || t.slice(4, 6) === '00' || t.slice(7) === '0000') return -1;
  const ok = edges(w, start, end) && w.s.charCodeAt(start - 1) !== 45 && w.s.charCodeAt(end) !== 45;
  return ok ? end : -1;
};

const isAlnumOrPlus = (c: number) => isAlnum(c) || c === 43;
const phone: Check = (w, m, start, end) => {
  const t = m[0];
  const digits = t.replace(/\D/g, '');
  if (!rightEdge(w.s, end, isDigit) || !leftEdge(w.s, start, w.raw, isAlnumOrPlus) || !startsGroups(w.s, start) || !endsGroups(w.s, end)) return -1;
  const first = t.charCodeAt(0);
  if (first === 43) return digits.length >= 9 && digits.length <= 15 ? end : -1; // +CC…, E.164
  if (first === 48) {
    // A national number with a trunk 0 (EU): one separator throughout, 10-11 digits (or 00 + 9-13).
    const seps = t.replace(/\d/g, '');
    const one = seps.split('').every((c) => c === seps[0]);
    const n = digits.length;
    return one && (t.startsWith('00') ? n >= 11 && n <= 15 : n === 10 || n === 11) ? end : -1;
  }
  // North American: area code and exchange start with 2-9.
  return digits.length === 10 && digits.charCodeAt(0) >= 50 && digits.charCodeAt(3) >= 50 ? end : -1;
};

const iban: Check = (w, _m, start) => {
  const s = w.s;
  const len = IBAN_LENGTHS.get(s.slice(start, start + 2));
  if (!len || !leftEdge(s, start, w.raw, isAlnum)) return -1;
  // Take exactly the country's length, skipping the single spaces of the printed form.
  let compact = '';
  let j = start;
  while (compact.length < len && j < s.length) {
    const c = s.charCodeAt(j);
    if (isDigit(c) || isUpper(c)) compact += s[j];
    else if (c !== 32 || s.charCodeAt(j - 1) === 32) break;
    j++;
  }
  return compact.length === len && rightEdge(s, j, isAlnum) && ibanValid(compact) ? j : -1;
};

const NINO_BAD_PREFIX = new Set(['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ']);
const nino: Check = (w, m, start, end) => (!NINO_BAD_PREFIX.has(m[0].slice(0, 2)) && edges(w, start, end) ? end : -1);

function emailAt(s: string, at: number, raw: boolean): number {
  // The local part, backwards: letters, digits and . _ % + -, not starting or ending with a dot.
  let a = at;
  while (a > 0 && at - a < 64 && isLocal(s.charCodeAt(a - 1))) a--;
  while (a < at && s.charCodeAt(a) === 46) a++;
  if (a === at || s.charCodeAt(at - 1) === 46 || !leftEdge(s, a, raw, isLocal)) return -1;
  DOMAIN.lastIndex = at + 1;
  const m = DOMAIN.exec(s);
  // A TLD that is a file extension is an asset name (icon@2x.png); "user@host:path" is an SSH remote.
  if (!m || NOT_TLD.has(m[1]!.toLowerCase()) || s.charCodeAt(DOMAIN.lastIndex) === 58) return -1;
  return a;
}
const isLocal = (c: number) => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const DOMAIN = /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}([A-Za-z]{2,24})(?![A-Za-z0-9-])/y;
const NOT_TLD = new Set('png jpg jpeg gif svg webp ico bmp js mjs cjs ts tsx jsx css scss json map md html txt py rb go rs java kt swift lock yml yaml toml xml sh zip gz tgz wasm'.split(' '));

export function piiScan(kinds: readonly PiiKind[]): ScanFn {
  const want = new Set(kinds);
  const numbers = kinds.some((k) => k !== 'email');
  return (s, raw, on) => {
    if (want.has('email')) {
      let stop = false;
      eachIndex(s, '@', (i) => {
        const a = emailAt(s, i, raw);
        if (a < 0) return i + 1;
        stop = on('email', a, DOMAIN.lastIndex) === true;
        return stop ? STOP : DOMAIN.lastIndex;
      });
      if (stop) return;
    }
    if (numbers) scanNumbers(s, raw, want, on);
  };
}

function scanNumbers(s: string, raw: boolean, want: ReadonlySet<PiiKind>, on: OnMatch): void {
  const n = s.length;
  const seen = new Set<string>();
  /** Looks at the run around [a, b); returns where the next seed search starts, or STOP. */
  const look = (a: number, b: number): number => {
    let lo = a;
    let hi = b;
    while (lo > 0 && a - lo < REACH && inRun(s.charCodeAt(lo - 1))) lo--;
    while (hi < n && hi - b < REACH && inRun(s.charCodeAt(hi))) hi++;
    let digits = 0;
    let punct = 0;
    let upper = false;
    let dash = false;
    let first = 0;
    for (let i = lo; i < hi; i++) {
      const c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        if (digits++ === 0) first = c;
      } else if (c >= 65) upper = true;
      else {
        punct++;
        if (c === 45) dash = true;
      }
    }
    // A run of bare digits is a card only from its first digit (2-6); else it is nobody's.
    const asCard = digits >= 13 && (punct > 0 || upper || (first >= 50 && first <= 54));
    const asSsn = digits >= 9 && dash;
    const asPhone = digits >= 9 && punct > 0;
    const asIban = upper && digits >= 9;
    const asNino = upper && digits >= 6;
    if (asCard || asSsn || asPhone || asIban || asNino) {
      const w: Window = { s, raw, lo, text: s.slice(lo, hi) };
      if (
        (asCard && want.has('card') && each(w, CARD, 'card', card, seen, on)) ||
        (asSsn && want.has('us_ssn') && each(w, SSN, 'us_ssn', ssn, seen, on)) ||
        (asPhone && want.has('phone') && each(w, PHONE, 'phone', phone, seen, on)) ||
        (asIban && want.has('iban') && each(w, IBAN, 'iban', iban, seen, on)) ||
        (asNino && want.has('uk_nino') && each(w, NINO, 'uk_nino', nino, seen, on))
      )
        return STOP;
    }
    // A run longer than the window is looked at again from a little before the window's end.
    return hi - b >= REACH ? Math.max(b, hi - 42) : hi;
  };
  if (want.has('phone')) {
    let stop = false;
    eachIndex(s, '+', (i) => {
      const c = s.charCodeAt(i + 1);
      if (c < 49 || c > 57) return i + 1;
      stop = look(i, i + 2) === STOP;
      return stop ? STOP : i + 1;
    });
    if (stop) return;
  }
  SEED.lastIndex = 0;
  for (let m = SEED.exec(s); m; m = SEED.exec(s)) {
    const next = look(m.index, m.index + m[0].length);
    if (next === STOP) return;
    SEED.lastIndex = next;
  }
}
