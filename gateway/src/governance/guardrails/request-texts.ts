import { isAlnum, type RawBody } from './scan.js';
import { collectTexts, readText, writeText, type TextRef } from './texts.js';

/**
 * One request's body during a guardrail run: decoded once, parsed at most once and only when a
 * guardrail needs its texts, copied before the first rewrite when the caller's parsed body was
 * used (the caller's object is never changed).
 *
 * The raw pre-checks read the JSON text while it still says what the texts say: until a text is
 * rewritten. They are skipped when the caller passed the parsed body (decoding would cost more
 * than it saves), and when the body carries base64 sources: images and PDFs are much of such a
 * body, the pre-checks would read them, and JSON.parse skips through them instead.
 */
export class RequestTexts {
  #decoded: string | undefined;
  #raw: RawBody | undefined | null = null;
  #tree: unknown;
  #texts: TextRef[] | undefined;
  #own = false;
  #changed = false;

  constructor(
    readonly body: Buffer,
    parsed: unknown,
    /** The longest match any pre-check of the run looks for. */
    private readonly reach: number,
  ) {
    this.#tree = parsed;
  }

  /** The body for the raw pre-checks, or undefined when they are not to be used. */
  raw(): RawBody | undefined {
    if (this.#changed || (this.#tree !== undefined && !this.#own)) return undefined;
    if (this.#raw === null) {
      const b = this.body;
      this.#raw = b.indexOf(BASE64) !== -1 || escapesHideText(b) ? undefined : { bytes: b, chunks: chunked(b, this.reach), whole: () => this.decoded() };
    }
    return this.#raw;
  }

  texts(): TextRef[] {
    if (this.#tree === undefined) {
      this.#tree = JSON.parse(this.decoded());
      this.#own = true;
    }
    return (this.#texts ??= collectTexts(this.#tree));
  }

  /** Replaces the i-th text (in `texts()` order, which a fresh parse repeats). */
  rewrite(i: number, text: string): void {
    if (!this.#own) {
      this.#tree = JSON.parse(this.decoded());
      this.#own = true;
      this.#texts = collectTexts(this.#tree);
    }
    writeText(this.texts()[i]!, text);
    this.#changed = true;
  }

  /**
   * Input tokens, estimated as the UTF-8 bytes of the texts / 4, rounded up: about what Claude's
   * tokenizer gives for English and code, more for most other text. Tool definitions and images
   * are not counted. Under `limit` the answer may be any number up to it: the JSON text is never
   * shorter than the texts in it, so a short body needs no parse.
   */
  inputTokens(limit: number): number {
    if (!this.#changed && Math.ceil(this.body.length / 4) <= limit) return 0;
    let bytes = 0;
    for (const t of this.texts()) bytes += Buffer.byteLength(readText(t), 'utf8');
    return Math.ceil(bytes / 4);
  }

  redactedBody(): Buffer | undefined {
    return this.#changed ? Buffer.from(JSON.stringify(this.#tree)) : undefined;
  }

  private decoded(): string {
    return (this.#decoded ??= this.body.toString('utf8'));
  }
}

/** Chunks of 64 KB (young-generation strings: cheap to make and to collect). */
const CHUNK = 64 * 1024;

/**
 * The JSON text in chunks [kC, kC + C + overlap): a match of up to `overlap` characters, with its
 * context, lies whole in one chunk. Cuts fall on UTF-8 character starts.
 */
function chunked(b: Buffer, reach: number): string[] {
  const overlap = Math.max(4096, 2 * reach);
  if (b.length <= CHUNK + overlap) return [b.toString('utf8')];
  const charStart = (i: number) => {
    while (i > 0 && i < b.length && (b[i]! & 0xc0) === 0x80) i--;
    return i;
  };
  const chunks: string[] = [];
  for (let a = 0; a < b.length; a += CHUNK) chunks.push(b.toString('utf8', charStart(a), charStart(Math.min(b.length, a + CHUNK + overlap))));
  return chunks;
}

/**
 * Whether a `\u` escape could hide part of a match from the raw pre-check: an escaped printable
 * character (JSON.stringify writes those as they are; other writers may not), or an escape
 * followed by a letter or digit, which its hex digits would run into (`\u001b4111…`).
 */
function escapesHideText(b: Buffer): boolean {
  for (let i = b.indexOf(ESCAPE_U); i !== -1; i = b.indexOf(ESCAPE_U, i + 2)) {
    let k = i;
    while (k > 0 && b[k - 1] === 92) k--;
    if ((i - k) % 2 === 1) continue; // "\\u": an escaped backslash, then a letter u
    // A control character is \u0000-\u001f: "00", then 0 or 1, then a hex digit.
    const control = b[i + 2] === 48 && b[i + 3] === 48 && (b[i + 4] === 48 || b[i + 4] === 49) && isHex(b[i + 5] ?? 0);
    if (!control || isAlnum(b[i + 6] ?? 32)) return true;
  }
  return false;
}

const isHex = (c: number) => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
const ESCAPE_U = Buffer.from('\\u');
/** How a base64 source's type ends in the JSON text: `"type":"base64"`. */
const BASE64 = Buffer.from('base64"');
