// OpenTelemetry trace export: with `observability.otlp` set, every finished request becomes one
// SERVER span POSTed as OTLP/HTTP JSON to a collector (here a loopback stand-in), carrying the
// GenAI attributes, the client's trace (x-portkey-trace-id or traceparent) and no secret; the
// spans still queued are sent when the gateway closes. Without the setting nothing is sent.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../gateway/src/config/load.js';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { otlpSettings } from '../../gateway/src/observe/otlp.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}
type KeyValue = { key: string; value: AnyValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
}
interface TraceExport {
  resourceSpans: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans: Array<{ spans?: OtlpSpan[] }> }>;
}
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Records what is POSTed to it and answers 200 `{}`, as an OTLP/HTTP collector does. */
class Collector {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly received: Received[],
  ) {}

  static async start(): Promise<Collector> {
    const received: Received[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, text: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (addr === null || typeof addr !== 'object') throw new Error('collector did not bind');
    return new Collector(server, `http://127.0.0.1:${addr.port}`, received);
  }

  spans(): OtlpSpan[] {
    return this.received.flatMap((r) => (JSON.parse(r.text) as TraceExport).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans ?? [])));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function plain(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(plain);
  return undefined;
}
const attrs = (kvs: KeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, plain(kv.value)]));
const nanos = (t: string | number) => BigInt(String(t));

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const COLLECTOR_TOKEN = 'collector-token-0123456789';

let emu: AnthropicEmulator;
let collector: Collector;
const open: TestGateway[] = [];

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  collector = await Collector.start();
});
afterAll(async () => {
  for (const gw of open) await gw.close();
  await emu?.close();
  await collector?.close();
});
beforeEach(() => emu.reset());

async function gateway(extra: Record<string, unknown>): Promise<TestGateway> {
  const gw = await startGateway(anthropicConfig(emu.url, extra), { TEST_ANTHROPIC_KEY: emu.apiKey, COLLECTOR_TOKEN });
  open.push(gw);
  return gw;
}

/** Closes a gateway (the export's queue is flushed on close) and forgets it. */
async function close(gw: TestGateway): Promise<void> {
  open.splice(open.indexOf(gw), 1);
  await gw.close();
}

/** `id` is the response's request-id: the provider's, relayed. */
const send = (gw: TestGateway, key: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  }).then(async (r) => ({ status: r.status, id: r.headers.get('request-id')!, body: await r.text() }));

describe('with observability.otlp', () => {
  it('exports one span per request, with GenAI attributes, the client trace, and no secret', async () => {
    const gw = await gateway({ observability: { otlp: { endpoint: `${collector.url}/v1/traces`, headers: { 'x-collector-token': 'env:COLLECTOR_TOKEN' }, service_name: 'gatehouse-test' } } });
    const k = await gw.createKey({ name: 'traced', metadata: { team: 'qa' } });

    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'x' }], usage: { input_tokens: 100, output_tokens: 20 } });
    const first = await send(gw, k.key, { 'x-portkey-trace-id': 't-1', 'x-portkey-metadata': '{"env":"prod"}', 'x-claude-code-session-id': 'sess-1' });
    const second = await send(gw, k.key, { 'x-portkey-trace-id': 't-1' });
    const continued = await send(gw, k.key, { traceparent: `00-${TRACE}-${PARENT}-01` });
    emu.enqueue({ kind: 'status', status: 500 });
    const failed = await send(gw, k.key);
    expect([first.status, second.status, continued.status, failed.status]).toEqual([200, 200, 200, 500]);
    // The row knows both its own id (on the span) and the provider's request-id (on the response).
    const { data } = (await gw.admin<{ data: LogRow[] }>('GET', `/api/admin/logs?key_id=${k.id}`)).body;
    const row = (res: { id: string }) => data.find((r) => r.upstream_request_id === res.id)!;
    expect(data).toHaveLength(4);

    await close(gw);
    expect(collector.received.length).toBeGreaterThan(0);
    for (const r of collector.received) {
      expect(r.path).toBe('/v1/traces');
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['x-collector-token']).toBe(COLLECTOR_TOKEN);
    }
    const resource = attrs((JSON.parse(collector.received[0]!.text) as TraceExport).resourceSpans[0]!.resource?.attributes);
    expect(resource['service.name']).toBe('gatehouse-test');

    const spans = collector.spans();
    expect(spans).toHaveLength(4);
    const byId = new Map(spans.map((s) => [attrs(s.attributes)['gatehouse.request_id'], s]));
    const span = (res: { id: string }) => byId.get(row(res).id)!;

    for (const r of data) {
      const s = byId.get(r.id)!;
      expect(s.name).toBe('gatehouse messages');
      expect(s.kind).toBe(2); // SPAN_KIND_SERVER
      expect(nanos(s.startTimeUnixNano)).toBe(BigInt(Date.parse(r.created_at)) * 1_000_000n);
      expect(Number(nanos(s.endTimeUnixNano) - nanos(s.startTimeUnixNano)) / 1e6).toBeCloseTo(r.latency_ms, 2);
    }

    const a = attrs(span(first).attributes);
    expect(a).toMatchObject({
      'gen_ai.system': 'anthropic',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'claude-sonnet-5-5',
      'gen_ai.response.model': 'claude-sonnet-5-5',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cache_read.input_tokens': 0,
      'gen_ai.conversation.id': 'sess-1',
      'http.response.status_code': 200,
      'gatehouse.trace_id': 't-1',
      'gatehouse.session_id': 'sess-1',
      'gatehouse.workspace': 'default',
      'gatehouse.key_id': k.id,
      'gatehouse.provider': 'anthropic',
      'gatehouse.upstream_request_id': row(first).upstream_request_id,
      'gatehouse.route_path': 'config',
      'gatehouse.retries': 0,
      'gatehouse.outcome': 'ok',
      'gatehouse.metadata.team': 'qa',
      'gatehouse.metadata.env': 'prod',
    });
    expect(a['gatehouse.cost_usd']).toBeCloseTo(row(first).cost_usd!, 12);
    expect(a['gatehouse.ttft_ms']).toBe(row(first).ttft_ms);
    expect(span(first).status?.code ?? 0).not.toBe(2);

    // One x-portkey-trace-id, one trace: its id derived from the value, each request a root span.
    expect(span(second).traceId).toBe(span(first).traceId);
    expect(span(first).traceId).toBe(createHash('sha256').update('t-1').digest('hex').slice(0, 32));
    expect(span(first).parentSpanId ?? '').toBe('');
    expect(span(second).spanId).not.toBe(span(first).spanId);

    // A traceparent is continued: same trace, the caller's span as parent.
    expect(span(continued).traceId).toBe(TRACE);
    expect(span(continued).parentSpanId).toBe(PARENT);
    expect(span(continued).traceId).not.toBe(span(first).traceId);

    const err = span(failed);
    expect(err.status?.code).toBe(2); // STATUS_CODE_ERROR
    expect(err.status?.message).toBe(row(failed).error_message ?? 'HTTP 500');
    expect(attrs(err.attributes)).toMatchObject({ 'http.response.status_code': 500, 'gatehouse.outcome': 'error', 'error.type': expect.any(String) });

    const everything = collector.received.map((r) => r.text).join('\n');
    for (const secret of [k.key, emu.apiKey, gw.adminKey, COLLECTOR_TOKEN]) expect(everything).not.toContain(secret);
  });

  it('refuses to start when a header secret cannot be resolved', () => {
    const config = parseConfigText(JSON.stringify({ observability: { otlp: { endpoint: `${collector.url}/v1/traces`, headers: { authorization: 'env:NO_SUCH_VAR' } } } }), 'gatehouse.jsonc');
    expect(() => otlpSettings({ file: 'gatehouse.jsonc', dir: '.', config }, {})).toThrow(
      /observability\.otlp\.headers\.authorization \(env:NO_SUCH_VAR\) cannot be resolved: set the environment variable NO_SUCH_VAR/,
    );
    expect(otlpSettings({ file: 'gatehouse.jsonc', dir: '.', config }, { NO_SUCH_VAR: 'Bearer t' })).toEqual({ endpoint: `${collector.url}/v1/traces`, headers: { authorization: 'Bearer t' }, serviceName: 'gatehouse' });
  });
});

describe('without observability.otlp', () => {
  it('exports nothing', async () => {
    const before = collector.received.length;
    const gw = await gateway({});
    const k = await gw.createKey({ name: 'untraced' });
    expect((await send(gw, k.key, { 'x-portkey-trace-id': 't-2' })).status).toBe(200);
    await close(gw);
    expect(collector.received.length).toBe(before);
  });
});
