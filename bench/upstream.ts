// The benchmark's upstream: an Anthropic Messages API on loopback with configurable latency,
// stream pacing and reply size. It reuses the test emulator's byte builders (same frames, same
// JSON), but answers from replies built once, records nothing and never parses the request, so
// the upstream's own cost stays small and equal for every system measured against it.
import { createServer } from 'node:http';
import { buildMessage, frame, streamEvents, type ContentBlockSpec } from '../test/emulators/anthropic-sse.js';

export type ReplyKind = 'small' | 'stream200' | 'claude-code';

/** Content of each reply kind; `stream200` yields 200 SSE events in total. */
export function replyContent(kind: ReplyKind): ContentBlockSpec[] {
  switch (kind) {
    case 'small':
      return [{ type: 'text', text: 'Hello from the benchmark upstream.' }];
    case 'stream200':
      // 12 characters per text_delta: 194 deltas + start, ping, block start/stop, delta, stop = 200.
      return [{ type: 'text', text: 'x'.repeat(12 * 194) }];
    case 'claude-code':
      return [
        { type: 'thinking', thinking: 'Let me look at the file before editing it. '.repeat(8), signature: 'EqQBCgIYAhIM'.repeat(20) },
        { type: 'text', text: "I'll read the file first to see the current implementation. ".repeat(4) },
        { type: 'tool_use', id: 'toolu_bench_01', name: 'Read', input: { file_path: '/home/dev/project/src/server/app.ts', limit: 400 } },
      ];
  }
}

interface Prepared {
  json: Buffer;
  frames: Buffer[];
}

function prepare(kind: ReplyKind): Prepared {
  const msg = buildMessage({ model: 'claude-opus-5-5', messages: [] }, replyContent(kind), { usage: { input_tokens: 12_000, cache_read_input_tokens: 40_000 } });
  return { json: Buffer.from(JSON.stringify(msg)), frames: streamEvents(msg).map((e) => Buffer.from(frame(e.event, e.data))) };
}

const STREAM_MARK = Buffer.from('"stream":true');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface UpstreamOptions {
  port: number;
  reply: ReplyKind;
  /** Before the response headers. */
  latencyMs: number;
  /** Between SSE events. */
  paceMs: number;
}

export function startUpstream(o: UpstreamOptions) {
  const reply = prepare(o.reply);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (o.latencyMs) await sleep(o.latencyMs);
      const headers = { 'request-id': 'req_bench', 'anthropic-ratelimit-requests-limit': '4000' };
      if (!body.includes(STREAM_MARK)) {
        res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': reply.json.length });
        res.end(reply.json);
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      for (const f of reply.frames) {
        if (res.destroyed) return;
        if (!res.write(f)) await new Promise((r) => res.once('drain', r));
        if (o.paceMs) await sleep(o.paceMs);
      }
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => s.on('error', () => undefined));
  return new Promise<typeof server>((resolve) => server.listen(o.port, '127.0.0.1', () => resolve(server)));
}
