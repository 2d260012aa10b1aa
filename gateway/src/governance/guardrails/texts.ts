/**
 * The texts of a Messages request that guardrails scan, each with where it sits. Scanned: the
 * system prompt, and in every message the text, thinking, tool_result and tool_use input (every
 * string leaf), document text sources, search results. Not scanned: image and document base64
 * data, signatures, redacted_thinking data, tool definitions (they come from the client, not the
 * conversation). Paths are built only when a guardrail reports a finding.
 */

type Obj = Record<string, unknown>;
/** An object or an array: what holds a text. */
type Container = object;

/** One step of a path; shared by every text under it, so collecting allocates little. */
interface PathNode {
  readonly up: PathNode | undefined;
  readonly seg: string | number;
}

export interface TextRef {
  /** The object or array holding the string, and its key there: to read and to rewrite it. */
  readonly owner: Container;
  readonly key: string | number;
  readonly at: PathNode;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const node = (up: PathNode | undefined, seg: string | number): PathNode => ({ up, seg });
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function readText(ref: TextRef): string {
  return Reflect.get(ref.owner, ref.key) as string;
}

export function writeText(ref: TextRef, text: string): void {
  Reflect.set(ref.owner, ref.key, text);
}

/** `messages[3].content[1].input.command`, `system[2].text`, `messages[0].content[0].input["file path"]`. */
export function pathOf(ref: TextRef): string {
  const segs: Array<string | number> = [];
  for (let n: PathNode | undefined = ref.at; n; n = n.up) segs.push(n.seg);
  let out = '';
  for (let i = segs.length - 1; i >= 0; i--) {
    const s = segs[i]!;
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENT.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export function collectTexts(root: unknown): TextRef[] {
  const out: TextRef[] = [];
  if (!isObj(root)) return out;
  content(root, 'system', undefined, out);
  const messages = root.messages;
  if (Array.isArray(messages)) {
    const at = node(undefined, 'messages');
    messages.forEach((m, i) => {
      if (isObj(m)) content(m, 'content', node(at, i), out);
    });
  }
  return out;
}

function str(owner: Obj, key: string, up: PathNode | undefined, out: TextRef[]): void {
  if (typeof owner[key] === 'string') out.push({ owner, key, at: node(up, key) });
}

/** A `content` (or `system`) field: a string, or a list of blocks. */
function content(owner: Obj, key: string, up: PathNode | undefined, out: TextRef[]): void {
  const v = owner[key];
  if (typeof v === 'string') {
    out.push({ owner, key, at: node(up, key) });
  } else if (Array.isArray(v)) {
    const at = node(up, key);
    v.forEach((b, i) => {
      if (isObj(b)) block(b, node(at, i), out);
    });
  }
}

function block(b: Obj, at: PathNode, out: TextRef[]): void {
  switch (b.type) {
    case 'image':
    case 'redacted_thinking':
      return;
    case 'thinking':
      return str(b, 'thinking', at, out);
    case 'tool_result':
      return content(b, 'content', at, out);
    case 'tool_use':
    case 'server_tool_use':
      return leaves(b, 'input', at, out);
    case 'search_result':
      str(b, 'title', at, out);
      return content(b, 'content', at, out);
    case 'document': {
      str(b, 'title', at, out);
      str(b, 'context', at, out);
      const src = b.source;
      if (!isObj(src)) return;
      // base64, url and file sources carry no text of their own.
      if (src.type === 'text') str(src, 'data', node(at, 'source'), out);
      else if (src.type === 'content') content(src, 'content', node(at, 'source'), out);
      return;
    }
    default:
      // text blocks, and any newer block type that carries a text.
      return str(b, 'text', at, out);
  }
}

/** Every string under owner[key], however deep (a loop, not recursion: the JSON can be deep). */
function leaves(owner: Obj, key: string, up: PathNode, out: TextRef[]): void {
  const stack: Array<{ owner: Container; key: string | number; at: PathNode }> = [{ owner, key, at: node(up, key) }];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const v: unknown = Reflect.get(top.owner, top.key);
    if (typeof v === 'string') out.push(top);
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ owner: v, key: i, at: node(top.at, i) });
    else if (isObj(v)) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ owner: v, key: keys[i]!, at: node(top.at, keys[i]!) });
    }
  }
}
