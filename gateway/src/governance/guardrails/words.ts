import { leftEdge, rightEdge, type Detector, type OnMatch } from './scan.js';

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
  const shortRe = short.length ? new RegExp(`(?:${short.map(esc).join('|')})`, ascii ? 'gi' : 'giu') : undefined;

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
      precheck(json: string, bytes: Buffer) {
        if (!ascii) return scanString(json, true, true, hit);
        if (table && skipBytes(bytes, table, (start, cands) => cands.some((w) => bytesMatch(bytes, start, w)))) return true;
        return scanString(json, true, false, hit);
      },
    }),
  };
}

interface SkipTable {
  /** The shortest word's length (at most 255): the window. */
  m: number;
  /** By the folded pair of characters ending the window: how far the window may move. */
  shift: Uint8Array;
  /** By the folded pair ending a word's first m characters: those words. */
  ends: Map<number, string[]>;
}

function skipTable(words: readonly string[]): SkipTable {
  const m = Math.min(255, ...words.map((w) => w.length));
  const shift = new Uint8Array(1 << 14).fill(m - 1);
  const ends = new Map<number, string[]>();
  for (const w of words) {
    for (let j = 1; j < m; j++) {
      const key = (fold(w.charCodeAt(j - 1)) << 7) | fold(w.charCodeAt(j));
      shift[key] = Math.min(shift[key]!, m - 1 - j);
    }
    const key = (fold(w.charCodeAt(m - 2)) << 7) | fold(w.charCodeAt(m - 1));
    ends.set(key, [...(ends.get(key) ?? []), w]);
  }
  return { m, shift, ends };
}

// The same loop twice, for a string and for bytes: one loop over both would not stay fast.
// `visit` gets a window start and the words that may begin there; true stops the scan.
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

function skipBytes(b: Buffer, { m, shift, ends }: SkipTable, visit: Visit): boolean {
  for (let pos = m - 1, n = b.length; pos < n; ) {
    const key = (fold(b[pos - 1]!) << 7) | fold(b[pos]!);
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
function bytesMatch(b: Buffer, at: number, w: string): boolean {
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
