import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random base62 string; rejection sampling keeps every character equally likely. */
export function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

// Request ids only need to be unique, not secret: a random per-process prefix and a counter
// avoid drawing random bytes on every request.
const PROCESS_PREFIX = base62(10);
let counter = 0;

/** Same shape as Anthropic's ids (`req_…`) so log tooling that expects them keeps working. */
export const newRequestId = (): string => `req_gh${PROCESS_PREFIX}${(counter++).toString(36).padStart(8, '0')}`;
