/**
 * A few readable lines about a logged request or response body. The host sends whatever the
 * workspace's body policy kept: a shape summary ("metadata"), the full Messages JSON ("full"),
 * or something else from a newer gateway, so every field is checked before it is shown.
 */

type Lines = Array<[string, string]>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function countBy(items: unknown[], field: string): string {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = isRecord(item) && typeof item[field] === 'string' ? item[field] : 'other';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

function bytes(n: unknown): string | null {
  if (typeof n !== 'number') return null;
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function push(lines: Lines, label: string, value: string | null | undefined): void {
  if (value !== null && value !== undefined && value !== '') lines.push([label, value]);
}

export function summarizeBody(v: unknown): Lines {
  const lines: Lines = [];
  if (v === null || v === undefined) return lines;
  if (typeof v === 'string') {
    push(lines, 'Text', v.length > 200 ? `${v.slice(0, 200)}…` : v);
    return lines;
  }
  if (!isRecord(v)) return lines;
  // The "metadata" body policy: sizes and shape, no content.
  push(lines, 'Request size', bytes(v.request_bytes));
  push(lines, 'Response size', bytes(v.response_bytes));
  if (typeof v.model === 'string') push(lines, 'Model', v.model);
  if (typeof v.max_tokens === 'number') push(lines, 'Max tokens', String(v.max_tokens));
  if (Array.isArray(v.messages)) push(lines, 'Messages', `${v.messages.length} (${countBy(v.messages, 'role')})`);
  else if (typeof v.messages === 'number') push(lines, 'Messages', String(v.messages));
  if (Array.isArray(v.system)) push(lines, 'System blocks', String(v.system.length));
  else if (typeof v.system === 'string') push(lines, 'System prompt', `${v.system.length} characters`);
  else if (typeof v.system_blocks === 'number') push(lines, 'System blocks', String(v.system_blocks));
  if (Array.isArray(v.tools)) {
    const names = v.tools.map((t) => (typeof t === 'string' ? t : isRecord(t) && typeof t.name === 'string' ? t.name : '?'));
    push(lines, 'Tools', names.length > 8 ? `${names.length}: ${names.slice(0, 8).join(', ')}, …` : names.join(', ') || 'none');
  }
  if (Array.isArray(v.content)) push(lines, 'Content blocks', countBy(v.content, 'type'));
  else if (isRecord(v.content_blocks)) {
    push(lines, 'Content blocks', Object.entries(v.content_blocks).map(([k, n]) => `${String(n)} ${k}`).join(', '));
  }
  if (typeof v.stop_reason === 'string') push(lines, 'Stop reason', v.stop_reason);
  if (isRecord(v.usage)) {
    const u = Object.entries(v.usage).filter(([, n]) => typeof n === 'number');
    push(lines, 'Usage', u.map(([k, n]) => `${k.replace(/_/g, ' ')} ${String(n)}`).join(', '));
  }
  if (lines.length === 0) push(lines, 'Fields', Object.keys(v).slice(0, 12).join(', '));
  return lines;
}

const PREVIEW_LIMIT = 20_000;

/** Pretty JSON, cut at a size a `<pre>` can lay out without stalling the panel. */
export function previewJson(v: unknown): string {
  let text: string;
  try {
    text = typeof v === 'string' ? v : (JSON.stringify(v, null, 2) ?? String(v));
  } catch {
    text = String(v);
  }
  return text.length > PREVIEW_LIMIT ? `${text.slice(0, PREVIEW_LIMIT)}\n… (${text.length - PREVIEW_LIMIT} more characters)` : text;
}
