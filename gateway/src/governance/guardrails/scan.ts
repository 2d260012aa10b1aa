/**
 * What every detector shares. A detector scans either one decoded text, or (`raw` true) the
 * request body's JSON text, as a cheap pre-check that lets the engine skip parsing a request in
 * which nothing can match (request-texts.ts says when it does not apply).
 *
 * The pre-check must never miss what the text scan would find. That holds because detectors
 * match only characters JSON never escapes (no quote, backslash, slash or control character), so
 * a match in a text appears verbatim in the JSON; and because a match that starts right after an
 * escaped character (after a newline, say) has the escape's last letter before it in the JSON:
 * `\nAKIA…`. The `raw` edge check below accepts that letter. The engine gives up on the
 * pre-check when the body has `\u` escapes of printable characters, which could hide anything,
 * or one whose hex digits run into a letter or digit.
 * In raw mode a check may accept more than in a text (the start or end of a chunk counts as an
 * edge, a label may stand for the secret after it): that costs a parse, never a miss.
 */

/** Reports one match [start, end) of `kind`; returning true stops the scan (a pre-check needs one). */
export type OnMatch = (kind: string, start: number, end: number) => boolean | void;

/** Scans `s`, a decoded text, or the body's JSON text when `raw` is true. */
export type ScanFn = (s: string, raw: boolean, on: OnMatch) => void;

/**
 * The body for the pre-checks: its bytes, and its JSON text in chunks that overlap by far more
 * than any pre-check match and its context (a string over 128 KB is allocated where V8 collects
 * it slowly: one 500 KB string costs more than the scans), or whole when a check needs it.
 */
export interface RawBody {
  readonly bytes: Buffer;
  readonly chunks: readonly string[];
  whole(): string;
}

/** What a content guardrail looks for, built once from its definition. */
export interface Detector {
  /** Scans one decoded text. */
  readonly scan: (text: string, on: OnMatch) => void;
  /**
   * Whether the body may hold a match; never false when a text would match. Absent when the
   * guardrail cannot tell: then the body is parsed.
   */
  readonly precheck?: (body: RawBody) => boolean;
  /** The longest match the pre-check looks for, when that can exceed the default chunk overlap. */
  readonly reach?: number;
}

export type CharClass = (c: number) => boolean;

export const isDigit: CharClass = (c) => c >= 48 && c <= 57;
export const isUpper: CharClass = (c) => c >= 65 && c <= 90;
export const isAlnum: CharClass = (c) => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);
/** Characters of base64url and most API tokens. */
export const isToken: CharClass = (c) => isAlnum(c) || c === 95 || c === 45;

/** Whether an escape sequence (`\n`, `\t`, `\u001b`…) of the JSON text ends just before i. */
function escapeEndsAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i - 1);
  if (s.charCodeAt(i - 2) === 92 && (c === 98 || c === 102 || c === 110 || c === 114 || c === 116)) return true;
  return i >= 6 && s.charCodeAt(i - 6) === 92 && s.charCodeAt(i - 5) === 117;
}

/** Whether a match may start at i: the character before is not `inside` (or, raw, ends an escape). */
export function leftEdge(s: string, i: number, raw: boolean, inside: CharClass): boolean {
  return i === 0 || !inside(s.charCodeAt(i - 1)) || (raw && escapeEndsAt(s, i));
}

/** Whether a match may end at j. The same test in both modes: after a match, JSON has `\` or `"`. */
export function rightEdge(s: string, j: number, inside: CharClass): boolean {
  return j >= s.length || !inside(s.charCodeAt(j));
}

/** The end of a sticky regex's match at `at`, or -1. `test` allocates no match array. */
export function stickyEnd(re: RegExp, s: string, at: number): number {
  re.lastIndex = at;
  return re.test(s) ? re.lastIndex : -1;
}

/** Stops an `eachIndex` walk. */
export const STOP = Number.POSITIVE_INFINITY;

/**
 * Visits every index of a literal in s. V8 searches a literal with a rare first character at
 * memchr speed, many times faster than a regex, so detectors look for such a literal first.
 * `visit` returns where to search on (past a match; anything <= i means i + 1), or STOP.
 */
export function eachIndex(s: string, lit: string, visit: (i: number) => number): void {
  let i = s.indexOf(lit);
  while (i !== -1) {
    const next = visit(i);
    if (next === STOP) return;
    i = s.indexOf(lit, next > i ? next : i + 1);
  }
}
