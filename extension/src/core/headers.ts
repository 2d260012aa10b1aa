/**
 * ANTHROPIC_CUSTOM_HEADERS and the x-portkey-metadata header inside it. Claude Code splits the
 * value on /\r?\n/, then each line at its first ":" and trims both parts; since v2.1.227 a header
 * name outside the RFC 9110 token characters fails every request (reference/protocols.md D2), so
 * everything is checked here before it is written.
 */

export interface Header {
  name: string;
  value: string;
}

export const METADATA_HEADER = 'x-portkey-metadata';
/** What connect writes; other lines of an existing ANTHROPIC_CUSTOM_HEADERS are the developer's own and stay. */
export const MANAGED_HEADERS: readonly string[] = [METADATA_HEADER, 'x-portkey-config', 'x-portkey-provider'];
/**
 * Credentials never go in headers: the key is ANTHROPIC_AUTH_TOKEN. A stale `x-portkey-api-key`
 * line would even win, since the gateway reads that header before `Authorization`.
 */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'x-portkey-api-key', 'api-key', 'cookie']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Gatehouse keys (ghk_), admin keys (gha_) and Anthropic keys (sk-ant-): none belongs in a header value.
const KEY_LIKE = /\b(?:ghk_|gha_|sk-ant-)[A-Za-z0-9_-]{8,}/;
// Gateway limits for metadata (gateway/src/api/schemas.ts `Metadata`).
const MAX_FIELD = 64;
const MAX_VALUE = 512;

/** Reads a value the way Claude Code does; lines that are blank are skipped, malformed ones reported. */
export function parseCustomHeaders(text: string): { headers: Header[]; problems: string[] } {
  const headers: Header[] = [];
  const problems: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon < 0) {
      problems.push(`"${line.trim()}" has no ":" between the header name and its value.`);
      continue;
    }
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { headers, problems };
}

/** Why this header must not be written, or undefined when it is fine. `secrets` are values that must not appear. */
export function headerProblem(h: Header, secrets: readonly string[] = []): string | undefined {
  if (!TOKEN.test(h.name)) return `The header name "${h.name}" has characters a header name cannot have (letters, digits and -._~!#$%&'*+^\`| only).`;
  if (/[\r\n]/.test(h.value)) return `The value of ${h.name} contains a line break; each header must fit on one line.`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is being refused
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(h.value)) return `The value of ${h.name} contains a control character.`;
  if (CREDENTIAL_HEADERS.has(h.name.toLowerCase())) return `${h.name} carries a credential; the key belongs in ANTHROPIC_AUTH_TOKEN, not in a header.`;
  if (secrets.some((s) => s && h.value.includes(s)) || KEY_LIKE.test(h.value)) return `The value of ${h.name} looks like a key; credentials never go in headers.`;
  return undefined;
}

export function composeCustomHeaders(headers: readonly Header[]): string {
  return headers.map((h) => `${h.name}: ${h.value}`).join('\n');
}

/**
 * Connect's headers merged into the value already in the settings: the managed headers are
 * replaced, the developer's other lines kept, and credential lines dropped (they are reported).
 */
export function mergeCustomHeaders(existing: string | undefined, ours: readonly Header[], secrets: readonly string[]): { text: string; kept: string[]; dropped: string[] } {
  for (const h of ours) {
    const p = headerProblem(h, secrets);
    if (p) throw new Error(p);
  }
  const names = new Set(ours.map((h) => h.name.toLowerCase()));
  if (names.size !== ours.length) throw new Error('The same header is given twice.');
  const kept: string[] = [];
  const dropped: string[] = [];
  const theirs: Header[] = [];
  for (const h of parseCustomHeaders(existing ?? '').headers) {
    const lower = h.name.toLowerCase();
    if (MANAGED_HEADERS.includes(lower) || names.has(lower)) continue;
    if (headerProblem(h, secrets)) dropped.push(h.name);
    else {
      kept.push(h.name);
      theirs.push(h);
    }
  }
  return { text: composeCustomHeaders([...ours, ...theirs]), kept, dropped };
}

export type FieldSource = 'template' | 'flag' | 'git' | 'asked';

/**
 * The admin's template filled in. Template values are defaults the developer may override; an
 * empty one is for the developer to fill: from `given` (flags), from `user.email` for the user
 * field, else through `ask`. Fields still empty are returned as missing and left out.
 */
export async function fillMetadata(
  template: Readonly<Record<string, string>>,
  given: Readonly<Record<string, string>>,
  sources: { gitEmail?: string; ask?: (field: string) => Promise<string | undefined> },
): Promise<{ metadata: Record<string, string>; from: Record<string, FieldSource>; missing: string[] }> {
  const metadata: Record<string, string> = {};
  const from: Record<string, FieldSource> = {};
  const missing: string[] = [];
  const fields = [...new Set([...Object.keys(template), ...Object.keys(given)])];
  for (const field of fields) {
    let value = given[field]?.trim();
    let source: FieldSource = 'flag';
    if (!value && template[field]?.trim()) [value, source] = [template[field]!.trim(), 'template'];
    if (!value && (field === 'user' || field === 'email') && sources.gitEmail) [value, source] = [sources.gitEmail, 'git'];
    if (!value && sources.ask) [value, source] = [(await sources.ask(field))?.trim(), 'asked'];
    if (value) {
      metadata[field] = value;
      from[field] = source;
    } else missing.push(field);
  }
  return { metadata, from, missing };
}

/** Problems with metadata as the gateway and the admin's policies will read it. */
export function metadataProblems(metadata: Readonly<Record<string, unknown>>, required: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(metadata)) {
    if (k.length === 0 || k.length > MAX_FIELD) problems.push(`The field name "${k}" must be 1 to ${MAX_FIELD} characters.`);
    if (typeof v !== 'string') problems.push(`The field "${k}" must be a string, not ${JSON.stringify(v)}.`);
    else if (v.length > MAX_VALUE) problems.push(`The field "${k}" is longer than ${MAX_VALUE} characters.`);
  }
  for (const f of required) {
    const v = metadata[f];
    if (typeof v !== 'string' || !v.trim()) {
      const near = Object.keys(metadata).find((k) => k.toLowerCase() === f.toLowerCase());
      problems.push(`The required field "${f}" is missing${near ? ` ("${near}" is there, but field names are case-sensitive)` : ''}.`);
    }
  }
  return problems;
}

/** An x-portkey-metadata value read back: the object, or why it is not valid JSON of the right shape. */
export function parseMetadataHeader(value: string): { metadata?: Record<string, unknown>; problem?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    return { problem: `x-portkey-metadata is not valid JSON (no trailing commas, no single quotes): ${(e as Error).message}.` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problem: 'x-portkey-metadata must be a JSON object such as {"user":"dev@example.com"}.' };
  return { metadata: parsed as Record<string, unknown> };
}
