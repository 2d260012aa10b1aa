import { errors } from '../wire/errors.js';
import { jsonSyntaxErrors } from '../wire/json-syntax.js';

/** Bounds on `x-portkey-metadata`, so attribution data stays attribution data. */
export const METADATA_LIMITS = { keys: 32, keyLength: 64, valueLength: 512, totalBytes: 8_192 };

/**
 * `x-portkey-metadata`: a JSON object of string values. The key's own metadata (set by the
 * admin) wins over the header's, so a developer cannot change their team; fields the key
 * requires must be present after the merge.
 */
export function requestMetadata(header: string | string[] | undefined, keyMetadata: Readonly<Record<string, string>> = {}, required: readonly string[] = []): Record<string, string> {
  const text = (Array.isArray(header) ? header[0] : header) ?? '';
  const fromHeader: Record<string, string> = {};
  if (text.trim() !== '') {
    if (Buffer.byteLength(text) > METADATA_LIMITS.totalBytes) throw errors.invalidParam(`x-portkey-metadata is larger than ${METADATA_LIMITS.totalBytes} bytes.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      const where = jsonSyntaxErrors(text, { jsonc: false })[0];
      const detail = where ? `${where.what} at column ${where.column}` : e instanceof Error ? e.message : String(e);
      throw errors.invalidParam(`x-portkey-metadata is not valid JSON: ${detail}. Send an object such as {"user":"dev@example.com"} (double quotes, no trailing commas).`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw errors.invalidParam('x-portkey-metadata must be a JSON object of string values.');
    const entries = Object.entries(parsed);
    if (entries.length > METADATA_LIMITS.keys) throw errors.invalidParam(`x-portkey-metadata has ${entries.length} fields; at most ${METADATA_LIMITS.keys} are allowed.`);
    for (const [k, v] of entries) {
      if (typeof v !== 'string') throw errors.invalidParam(`x-portkey-metadata.${k} must be a string; got ${JSON.stringify(v)}.`);
      if (k.length > METADATA_LIMITS.keyLength) throw errors.invalidParam(`x-portkey-metadata has a field name longer than ${METADATA_LIMITS.keyLength} characters.`);
      if (v.length > METADATA_LIMITS.valueLength) throw errors.invalidParam(`x-portkey-metadata.${k} is longer than ${METADATA_LIMITS.valueLength} characters.`);
      fromHeader[k] = v;
    }
  }
  const merged = { ...fromHeader, ...keyMetadata };
  const missing = required.filter((f) => !merged[f]);
  if (missing.length) {
    throw errors.invalidParam(`This key requires metadata field${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}: send them in x-portkey-metadata, e.g. {${missing.map((m) => `"${m}":"..."`).join(',')}}.`);
  }
  return merged;
}
