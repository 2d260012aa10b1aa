import { leftEdge, rightEdge, type Detector, type OnMatch, type RawBody } from './scan.js';

/**
 * Blocked words, case-insensitive, on word boundaries. A regex alternation of ten words costs
 * V8 about 2 ns a character (it cannot skip), so words of five or more characters are found with
 * a Wu–Manber scan: it reads the two characters ending a window as long as the shortest word
 * and, unless that pair occurs in some word, jumps ahead by up to that length. The pre-check runs
 * it on the body's bytes, which V8 reads faster than a string. Shorter words go to one regex.
 * A space in a word matches one space.
 */

const MIN_SKIP_WORD = 5;

const isAsciiWord = (c: number) => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 95;
/** Letters, digits and _, and any non-ASCII letter or digit. */
const isWordChar = (c: number): boolean => isAsciiWord(c) || (c >= 128 && /[\p{L}\p{N}]/u.test(String.fromCharCode(c)));
/** Folds ASCII case (and some punctuation with it: this is only a filter); all non-ASCII share one slot. */
const fold = (c: number) => (c < 128 ? c | 32 : 127);

export function normaliseWord(w: string): string {
  return w.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function blockedWords(input: readonly string[]): Detector {
  const words = [...new Set(input.map(normaliseWord))];
  const long = words.filter((w) => w.length >= MIN_SKIP_WORD);
  const short = words.filter((w) => w.length < MIN_SKIP_WORD);
  const table = long.length ? skipTable(long) : undefined;
  const ascii = words.every((w) => /^[\x20-\x7e]*$/.test(w));
  const esc = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A word ending in a letter or digit must end at a boundary: `\b` there is the same in the JSON
  // text and saves a call back for every "standard" that holds "nda". (Not at the start: see scan.ts.)
  const tail = (w: string) => (ascii && isAsciiWord(w.charCodeAt(w.length - 1)) ? `${esc(w)}\\b` : esc(w));
  const shortRe = short.length ? new RegExp(`(?:${short.map(tail).join('|')})`, ascii ? 'gi' : 'giu') : undefined;

  /** Each match in s of the long words, then of the short ones; edges checked (raw: leniently, see scan.ts). */
  const scanString = (s: string, raw: boolean, long: boolean, on: OnMatch): boolean => {
    const edges = (start: number, end: number) =>
      (!isWordChar(s.charCodeAt(start)) || leftEdge(s, start, raw, isWordChar)) && (!isWordChar(s.charCodeAt(end - 1)) || rightEdge(s, end, isWordChar));
    const report = (start: number, w: string) => edges(start, start + w.length) && on('blocked_word', start, start + w.length) === true;
    if (long && table && skipString(s, table, (start, cands) => cands.some((w) => sameFolded(s, start, w) && report(start, w)))) return true;
    if (!shortRe) return false;
    shortRe.lastIndex = 0;
    for (let r = shortRe.exec(s); r; r = shortRe.exec(s)) {
      if (edges(r.index, shortRe.lastIndex) && on('blocked_word', r.index, shortRe.lastIndex) === true) return true;
      shortRe.lastIndex = r.index + 1;
    }
    return false;
  };

  // JSON escapes `"`, `\`, `/` and control characters: a word holding one is not in the JSON text as written.
  const rawSafe = words.every((w) => !/["\\/]/.test(w) && ![...w].some((c) => c < ' '));
  const hit = () => true;
  return {
    scan: (text, on) => void scanString(text, false, true, on),
    ...(rawSafe && {
      precheck({ bytes, chunks }: RawBody) {
        if (!ascii) return chunks.some((c) => scanString(c, true, true, hit));
        if (table && skipBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), table)) return true;
        return shortRe !== undefined && chunks.some((c) => scanString(c, true, false, hit));
      },
      reach: Math.max(...words.map((w) => w.length)) + 8,
    }),
  };
}

interface SkipTable {
  /** The shortest word's length (at most 255): the window. */
  m: number;
  /** By the folded pair of characters ending the window: how far the window may move. */
  shift: Uint8Array;
  /** The same by the pair of bytes, each case spelt out: the byte loop then needs no folding. */
  shiftBytes: Uint8Array;
  /** By the folded pair ending a word's first m characters: those words. */
  ends: Map<number, string[]>;
  /** Folded first characters of the words: most windows are ruled out by their first byte. */
  firsts: Uint8Array;
}

function skipTable(words: readonly string[]): SkipTable {
  const m = Math.min(255, ...words.map((w) => w.length));
  const shift = new Uint8Array(1 << 14).fill(m - 1);
  const shiftBytes = new Uint8Array(1 << 16).fill(m - 1);
  const cases = (c: number) => (c >= 97 && c <= 122 ? [c, c - 32] : c < 128 ? [c] : []);
  const ends = new Map<number, string[]>();
  const firsts = new Uint8Array(128);
  for (const w of words) {
    firsts[fold(w.charCodeAt(0))] = 1;
    for (let j = 1; j < m; j++) {
      const [a, b] = [w.charCodeAt(j - 1), w.charCodeAt(j)];
      const key = (fold(a) << 7) | fold(b);
      shift[key] = Math.min(shift[key]!, m - 1 - j);
      for (const x of cases(a)) for (const y of cases(b)) shiftBytes[(x << 8) | y] = Math.min(shiftBytes[(x << 8) | y]!, m - 1 - j);
    }
    const key = (fold(w.charCodeAt(m - 2)) << 7) | fold(w.charCodeAt(m - 1));
    ends.set(key, [...(ends.get(key) ?? []), w]);
  }
  return { m, shift, shiftBytes, ends, firsts };
}

/** `visit` gets a window start and the words that may begin there; true stops the scan. */
type Visit = (start: number, words: readonly string[]) => boolean;

function skipString(s: string, { m, shift, ends }: SkipTable, visit: Visit): boolean {
  for (let pos = m - 1, n = s.length; pos < n; ) {
    const key = (fold(s.charCodeAt(pos - 1)) << 7) | fold(s.charCodeAt(pos));
    const sh = shift[key]!;
    if (sh !== 0) {
      pos += sh;
      continue;
    }
    const cands = ends.get(key);
    if (cands && visit(pos - m + 1, cands)) return true;
    pos++;
  }
  return false;
}

const candidates = new Int32Array(1024);
const CANDIDATES_FULL = 1020;

/**
 * The pre-check's scan of the body's bytes (ASCII words only): whether a word is there. Each
 * step of a scan waits on the table load of the step before, so four scans, one per quarter of
 * the body, move at once and keep the CPU busy meanwhile (twice as fast as one). A window whose
 * shift is 0 is noted and checked afterwards, outside the loop.
 */
function skipBytes(b: Uint8Array, table: SkipTable): boolean {
  const t = table.shiftBytes;
  const m = table.m;
  const n = b.length;
  const q = Math.ceil(n / 4);
  let found = 0;
  let p0 = m - 1;
  let p1 = Math.max(m - 1, q);
  let p2 = Math.max(m - 1, 2 * q);
  let p3 = Math.max(m - 1, 3 * q);
  while (p0 < q && p1 < 2 * q && p2 < 3 * q && p3 < n) {
    let s = t[(b[p0 - 1]! << 8) | b[p0]!]!;
    if (s === 0) {
      candidates[found++] = p0;
      s = 1;
    }
    p0 += s;
    s = t[(b[p1 - 1]! << 8) | b[p1]!]!;
    if (s === 0) {
      candidates[found++] = p1;
      s = 1;
    }
    p1 += s;
    s = t[(b[p2 - 1]! << 8) | b[p2]!]!;
    if (s === 0) {
      candidates[found++] = p2;
      s = 1;
    }
    p2 += s;
    s = t[(b[p3 - 1]! << 8) | b[p3]!]!;
    if (s === 0) {
      candidates[found++] = p3;
      s = 1;
    }
    p3 += s;
    if (found > CANDIDATES_FULL) {
      if (anyWordAt(b, table, found)) return true;
      found = 0;
    }
  }
  // The scans still short of their quarter's end, one after the other.
  const rest = [p0, p1, p2, p3];
  const limits = [q, 2 * q, 3 * q, n];
  for (let i = 0; i < 4; i++) {
    for (let p = rest[i]!; p < limits[i]!; ) {
      let s = t[(b[p - 1]! << 8) | b[p]!]!;
      if (s === 0) {
        candidates[found++] = p;
        s = 1;
      }
      p += s;
      if (found > CANDIDATES_FULL) {
        if (anyWordAt(b, table, found)) return true;
        found = 0;
      }
    }
  }
  return anyWordAt(b, table, found);
}

/** Whether a word starts at one of the first `count` candidate windows (by their end). */
function anyWordAt(b: Uint8Array, { m, ends, firsts }: SkipTable, count: number): boolean {
  for (let i = 0; i < count; i++) {
    const end = candidates[i]!;
    if (firsts[fold(b[end - m + 1]!)] !== 1) continue;
    const words = ends.get((fold(b[end - 1]!) << 7) | fold(b[end]!));
    if (words?.some((w) => bytesMatch(b, end - m + 1, w))) return true;
  }
  return false;
}

/** Whether s at `at` holds the (lower-case) word, ignoring case. */
function sameFolded(s: string, at: number, w: string): boolean {
  if (at + w.length > s.length) return false;
  for (let k = 0; k < w.length; k++) {
    const a = s.charCodeAt(at + k);
    const b = w.charCodeAt(k);
    if (a === b || (b >= 97 && b <= 122 && (a | 32) === b)) continue;
    if (a < 128 || b < 128 || s[at + k]!.toLowerCase() !== w[k]) return false;
  }
  return true;
}

/**
 * The pre-check's match on the body's bytes (ASCII words only): the word, ignoring case, with
 * leniently checked edges: a byte of a multi-byte character may or may not be a letter, and a
 * letter after `\` may be an escape (`\nword`), so both count as edges.
 */
function bytesMatch(b: Uint8Array, at: number, w: string): boolean {
  if (at + w.length > b.length) return false;
  for (let k = 0; k < w.length; k++) {
    const a = b[at + k]!;
    const c = w.charCodeAt(k);
    if (a !== c && !(c >= 97 && c <= 122 && (a | 32) === c)) return false;
  }
  const before = at > 0 ? b[at - 1]! : 32;
  const after = at + w.length < b.length ? b[at + w.length]! : 32;
  const leftOk = !isAsciiWord(w.charCodeAt(0)) || !isAsciiWord(before) || b[at - 2] === 92 || (at >= 6 && b[at - 6] === 92 && b[at - 5] === 117);
  return leftOk && (!isAsciiWord(w.charCodeAt(w.length - 1)) || !isAsciiWord(after));
}
