import { createHash } from 'node:crypto';

/**
 * Request and response bodies for the log, stored by content. Claude Code re-sends its whole
 * history every turn, so a session of N turns sends O(N²) bytes; split into blocks (each system
 * block, each message's content blocks, each tool) and stored once per distinct block, the same
 * session stores O(N). A body becomes a manifest (the request with each block replaced by a
 * reference) plus the blocks not yet stored.
 */

export type BodyPolicy = 'none' | 'metadata' | 'full';

/** What a log keeps of a body under the "metadata" policy: its shape, no content. */
export interface BodySummary {
  request_bytes: number;
  response_bytes: number;
  messages: number;
  system_blocks: number;
  tools: string[];
  content_blocks: Record<string, number>;
}

export interface CapturedBodies {
  request: Buffer;
  response: Buffer;
}

export interface Blob {
  hash: string;
  /** The block's JSON text. */
  json: string;
}

/** A stored body: a manifest with `{"$blob": hash}` where blocks were. */
export interface SplitBody {
  manifest: string;
  blobs: Blob[];
}

const REF = '$blob';
const LIST = '$list';
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ref(value: Json, blobs: Map<string, string>): Json {
  const json = JSON.stringify(value);
  const hash = createHash('sha256').update(json).digest('hex');
  blobs.set(hash, json);
  return { [REF]: hash };
}

/** Splits a Messages request into a manifest and its blocks; a body that is not JSON is one block. */
export function splitRequest(raw: Buffer): SplitBody {
  const blobs = new Map<string, string>();
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    body = undefined;
  }
  if (!isObj(body)) {
    const manifest = JSON.stringify(ref(raw.toString('utf8'), blobs));
    return { manifest, blobs: [...blobs].map(([hash, json]) => ({ hash, json })) };
  }
  const out: Record<string, Json> = { ...body };
  if (Array.isArray(body.system)) out.system = body.system.map((b) => ref(b, blobs));
  else if (typeof body.system === 'string') out.system = ref(body.system, blobs);
  if (Array.isArray(body.tools)) out.tools = body.tools.map((t) => ref(t, blobs));
  if (Array.isArray(body.messages)) {
    // A hash-consed list: each node names its message and the node before it, so requests that
    // share a history prefix share its nodes, and a manifest holds one reference, not N.
    let list: Json = null;
    for (const m of body.messages) {
      const content = isObj(m) ? m.content : undefined;
      const message = isObj(m) ? { ...m, content: Array.isArray(content) ? content.map((c) => ref(c, blobs)) : ref(content ?? null, blobs) } : m;
      list = ref({ m: ref(message, blobs), p: list }, blobs);
    }
    out.messages = { [LIST]: list };
  }
  return { manifest: JSON.stringify(out), blobs: [...blobs].map(([hash, json]) => ({ hash, json })) };
}

/** Every block a manifest reaches (for sweeping blocks no log needs any more); `seen` is shared across manifests. */
export function reachable(manifest: string, get: (hash: string) => string | undefined, seen: Set<string>): void {
  // An explicit stack: message lists are as deep as a session is long.
  const stack: Json[] = [JSON.parse(manifest) as Json];
  while (stack.length) {
    const v = stack.pop()!;
    if (isObj(v) && typeof v[REF] === 'string' && Object.keys(v).length === 1) {
      const hash = v[REF];
      if (seen.has(hash)) continue;
      seen.add(hash);
      const json = get(hash);
      if (json !== undefined) stack.push(JSON.parse(json) as Json);
    } else if (Array.isArray(v)) stack.push(...v);
    else if (isObj(v)) stack.push(...Object.values(v));
  }
}

/** Rebuilds a request from its manifest; `get` returns a block's JSON text. */
export function joinRequest(manifest: string, get: (hash: string) => string | undefined): unknown {
  const load = (hash: string): Json => {
    const json = get(hash);
    return json === undefined ? { missing_block: hash } : (JSON.parse(json) as Json);
  };
  const resolve = (v: Json): Json => {
    if (isObj(v) && typeof v[REF] === 'string' && Object.keys(v).length === 1) return resolve(load(v[REF]));
    if (isObj(v) && LIST in v && Object.keys(v).length === 1) {
      // Walked, not recursed: a long session's list is as deep as its message count.
      const messages: Json[] = [];
      for (let node = v[LIST] ?? null; isObj(node) && typeof node[REF] === 'string'; ) {
        const n = load(node[REF]);
        if (!isObj(n)) break;
        messages.push(resolve(n.m ?? null));
        node = n.p ?? null;
      }
      return messages.reverse();
    }
    if (Array.isArray(v)) return v.map(resolve);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    return v;
  };
  return resolve(JSON.parse(manifest) as Json);
}

export function summarize(request: Buffer, responseBytes: number): BodySummary {
  const s: BodySummary = { request_bytes: request.length, response_bytes: responseBytes, messages: 0, system_blocks: 0, tools: [], content_blocks: {} };
  try {
    const body = JSON.parse(request.toString('utf8')) as unknown;
    if (!isObj(body)) return s;
    s.system_blocks = Array.isArray(body.system) ? body.system.length : typeof body.system === 'string' ? 1 : 0;
    s.tools = Array.isArray(body.tools) ? body.tools.map((t) => (isObj(t) && typeof t.name === 'string' ? t.name : '?')) : [];
    if (Array.isArray(body.messages)) {
      s.messages = body.messages.length;
      for (const m of body.messages) {
        const content = isObj(m) ? m.content : undefined;
        for (const c of Array.isArray(content) ? content : [content]) {
          const type = isObj(c) && typeof c.type === 'string' ? c.type : 'text';
          s.content_blocks[type] = (s.content_blocks[type] ?? 0) + 1;
        }
      }
    }
  } catch {
    // A body that is not JSON has only its size.
  }
  return s;
}
