// Wire shapes of the Anthropic Messages API (protocols.md A4–A6), kept apart from the HTTP
// plumbing in anthropic.ts so both the JSON and the SSE answer are built from one message.
import { randomBytes } from 'node:crypto';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type ContentBlockSpec =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown }
  | { type: 'redacted_thinking'; data: string };

export type SseEvent = { event: string; data: unknown };

export interface MessageBody {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<Exclude<ContentBlockSpec, { type: 'tool_use' }> | { type: 'tool_use'; id: string; name: string; input: unknown }>;
  stop_reason: string;
  stop_sequence: null;
  stop_details: null;
  usage: Usage & {
    cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
    service_tier: 'standard';
  };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error',
  404: 'not_found_error', 409: 'conflict_error', 413: 'request_too_large', 429: 'rate_limit_error',
  500: 'api_error', 504: 'timeout_error', 529: 'overloaded_error',
};

const DEFAULT_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request', authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low', permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found', conflict_error: 'Conflict', request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit', api_error: 'Internal server error',
  timeout_error: 'Request timed out', overloaded_error: 'Overloaded',
};

/** The `error.type` Anthropic uses for a status; other 4xx fall back to invalid_request_error as the API does. */
export function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function statusForErrorType(type: string): number {
  const hit = Object.entries(ERROR_TYPES).find(([, t]) => t === type);
  return hit ? Number(hit[0]) : 500;
}

export function errorEnvelope(type: string, requestId: string, message?: string): unknown {
  return { type: 'error', error: { type, message: message ?? DEFAULT_MESSAGES[type] ?? type }, request_id: requestId };
}

export function randomId(prefix: string): string {
  return prefix + randomBytes(12).toString('base64url');
}

/** One SSE frame; `<name>` must equal data.type for real clients, which is the caller's job. */
export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

// Real streams cut text at arbitrary points, so clients must concatenate; several pieces prove they do.
function pieces(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function blockDeltas(block: MessageBody['content'][number]): unknown[] {
  switch (block.type) {
    case 'text':
      return pieces(block.text, 12).map((text) => ({ type: 'text_delta', text }));
    case 'thinking': {
      // display:"omitted" yields an empty thinking text; the API then sends only the signature.
      const thinking = block.thinking === '' ? [] : pieces(block.thinking, 16).map((t) => ({ type: 'thinking_delta', thinking: t }));
      return [...thinking, { type: 'signature_delta', signature: block.signature }];
    }
    case 'tool_use': {
      const json = JSON.stringify(block.input ?? {});
      // The API's first input_json_delta is often "", and splits land inside strings and escapes.
      const parts = ['', ...pieces(json, Math.max(1, Math.ceil(json.length / 3)))];
      return parts.map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    }
    case 'redacted_thinking':
      // There is no delta type for redacted thinking: the data arrives whole in content_block_start.
      return [];
  }
}

function blockStart(block: MessageBody['content'][number]): unknown {
  switch (block.type) {
    case 'text': return { type: 'text', text: '' };
    case 'thinking': return { type: 'thinking', thinking: '', signature: '' };
    case 'tool_use': return { type: 'tool_use', id: block.id, name: block.name, input: {} };
    case 'redacted_thinking': return block;
  }
}

/** The full event sequence of A5 for a message, pings included. */
export function streamEvents(msg: MessageBody, pingEvery?: number): SseEvent[] {
  const ev = (data: { type: string } & Record<string, unknown>): SseEvent => ({ event: data.type, data });
  const u = msg.usage;
  const out: SseEvent[] = [ev({
    type: 'message_start',
    message: { ...msg, content: [], stop_reason: null, stop_sequence: null, stop_details: null,
      usage: { ...u, output_tokens: Math.min(1, u.output_tokens) } },
  })];
  msg.content.forEach((block, index) => {
    out.push(ev({ type: 'content_block_start', index, content_block: blockStart(block) }));
    if (index === 0) out.push(ev({ type: 'ping' }));
    for (const delta of blockDeltas(block)) out.push(ev({ type: 'content_block_delta', index, delta }));
    out.push(ev({ type: 'content_block_stop', index }));
  });
  out.push(ev({
    type: 'message_delta',
    delta: { stop_reason: msg.stop_reason, stop_sequence: null },
    // Cumulative like the live API, input counts repeated, so a consumer that sums instead of taking the last value is caught.
    usage: { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens, output_tokens: u.output_tokens },
  }));
  out.push(ev({ type: 'message_stop' }));
  if (!pingEvery || pingEvery < 1) return out;
  const withPings: SseEvent[] = [];
  out.forEach((e, i) => {
    withPings.push(e);
    if ((i + 1) % pingEvery === 0 && i < out.length - 1) withPings.push(ev({ type: 'ping' }));
  });
  return withPings;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deterministic token estimate over the prompt parts only, so count_tokens and messages agree for one conversation. */
export function estimateInputTokens(req: unknown): number {
  const r = isRecord(req) ? req : {};
  const text = JSON.stringify([r.system ?? null, r.messages ?? null, r.tools ?? null]);
  return Math.max(1, Math.ceil(Buffer.byteLength(text) / 4));
}

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => (isRecord(b) && b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
}

/** The canned answer used when no script is queued (see the emulator's doc comment). */
export function defaultContent(req: unknown): ContentBlockSpec[] {
  const r = isRecord(req) ? req : {};
  const messages = Array.isArray(r.messages) ? r.messages : [];
  const lastUser: unknown = [...messages].reverse().find((m) => isRecord(m) && m.role === 'user');
  const content = isRecord(lastUser) ? lastUser.content : undefined;
  const out: ContentBlockSpec[] = [];
  const thinking = isRecord(r.thinking) ? r.thinking : undefined;
  if (thinking && (thinking.type === 'enabled' || thinking.type === 'adaptive')) {
    const text = thinking.display === 'omitted' ? '' : 'The user wants a reply from the emulator; answer briefly.';
    out.push({ type: 'thinking', thinking: text, signature: Buffer.from(`emu-signature:${text.length}`).toString('base64') });
  }
  const toolResult = Array.isArray(content) ? content.find((b) => isRecord(b) && b.type === 'tool_result') : undefined;
  if (isRecord(toolResult)) {
    out.push({ type: 'text', text: `tool result: ${blockText(toolResult.content)}` });
    return out;
  }
  const m = /EMU_TOOL (\S+) (.*)$/m.exec(blockText(content));
  if (m) {
    try {
      out.push({ type: 'tool_use', name: m[1] ?? '', input: JSON.parse(m[2] ?? '') });
      return out;
    } catch {
      // Not JSON: answer as plain text, as a model would.
    }
  }
  out.push({ type: 'text', text: 'Hello from the Anthropic emulator.' });
  return out;
}

export function buildMessage(
  req: unknown, content: ContentBlockSpec[], opts: { model?: string; stopReason?: string; usage?: Partial<Usage> },
): MessageBody {
  const r = isRecord(req) ? req : {};
  const blocks = content.map((b) => (b.type === 'tool_use' ? { ...b, id: b.id ?? randomId('toolu_emu_') } : b));
  const outText = JSON.stringify(blocks.map((b) => (b.type === 'text' ? b.text : b.type === 'thinking' ? b.thinking : b)));
  const usage: Usage = {
    input_tokens: estimateInputTokens(req), output_tokens: Math.max(1, Math.ceil(outText.length / 4)),
    cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...opts.usage,
  };
  return {
    id: randomId('msg_emu_'), type: 'message', role: 'assistant',
    model: opts.model ?? (typeof r.model === 'string' ? r.model : 'claude-opus-5-5'),
    content: blocks,
    stop_reason: opts.stopReason ?? (blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
    stop_sequence: null, stop_details: null,
    usage: { ...usage, service_tier: 'standard',
      cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 } },
  };
}
