import { isAlnum } from './scan.js';
import { collectTexts, readText, writeText, type TextRef } from './texts.js';

/**
 * One request's body during a guardrail run: decoded once, parsed at most once and only when a
 * guardrail needs its texts, copied before the first rewrite when the caller's parsed body was
 * used (the caller's object is never changed).
 */
export class RequestTexts {
  #decoded: string | undefined;
  #json: string | undefined | null = null;
  #tree: unknown;
  #texts: TextRef[] | undefined;
  #own = false;
  #changed = false;

  constructor(
    readonly body: Buffer,
    parsed: unknown,
  ) {
    this.#tree = parsed;
  }

  /** Whether the texts are at hand (then scanning them beats scanning the JSON text). */
  hasTexts(): boolean {
    return this.#tree !== undefined;
  }

  /** The body's JSON text for the raw pre-checks, or undefined when an escape could hide a text from them. */
  json(): string | undefined {
    if (this.#json === null) this.#json = escapesHideText(this.decoded()) ? undefined : this.decoded();
    return this.#json;
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
    if (!this.hasTexts() && Math.ceil(this.body.length / 4) <= limit) return 0;
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

/**
 * Whether a `\u` escape could hide part of a match from the raw pre-check: an escaped printable
 * character (JSON.stringify writes those as they are; other writers may not), or an escape
 * followed by a letter or digit, which its hex digits would run into (`\u001b4111…`).
 */
function escapesHideText(s: string): boolean {
  for (let i = s.indexOf('\\u'); i !== -1; i = s.indexOf('\\u', i + 2)) {
    let k = i;
    while (k > 0 && s.charCodeAt(k - 1) === 92) k--;
    if ((i - k) % 2 === 1) continue; // "\\u": an escaped backslash, then a letter u
    if (!(parseInt(s.slice(i + 2, i + 6), 16) < 0x20) || isAlnum(s.charCodeAt(i + 6))) return true;
  }
  return false;
}
