import { errors } from '../wire/errors.js';

/**
 * `x-portkey-metadata`: a JSON object of string values. The key's own metadata (set by the
 * admin) wins over the header's, so a developer cannot change their team.
 */
export function requestMetadata(header: string | string[] | undefined, keyMetadata: Readonly<Record<string, string>> = {}): Record<string, string> {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || text.trim() === '') return { ...keyMetadata };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw errors.invalidParam(`x-portkey-metadata is not valid JSON (${e instanceof Error ? e.message : String(e)}); send an object such as {"user":"dev@example.com"}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw errors.invalidParam('x-portkey-metadata must be a JSON object of string values.');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw errors.invalidParam(`x-portkey-metadata.${k} must be a string; got ${JSON.stringify(v)}.`);
    out[k] = v;
  }
  return { ...out, ...keyMetadata };
}
