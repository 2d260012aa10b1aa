import { Agent } from 'node:http';
// `gatehouse serve` as a real process: first start, config errors, graceful shutdown.
// Needs the built CLI (`npm run build`; `npm test` builds before vitest).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { buildMessage, streamEvents } from '../emulators/anthropic-sse.js';
import {
  cleanup, cliEnv, errorCode, EXAMPLE_CONFIG, http, makeTempDir, parseJsonOut, runCli, startServe, streamingCall,
  writeConfig, type HttpResult, type Served,
} from './harness.js';

const ADMIN_KEY = 'gha_cli_serve_test_admin_0123456789';
const UPSTREAM_KEY_VAR = 'GATEHOUSE_TEST_UPSTREAM_KEY';
const MODEL = 'claude-opus-5-5';
const MESSAGE_STOP = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';

let emulator: AnthropicEmulator | undefined;

afterEach(async () => {
  await cleanup();
  await emulator?.close();
  emulator = undefined;
});

interface Envelope {
  type: string;
  error: { type: string; message: string };
  request_id: string;
}

function envelope(r: HttpResult): Envelope {
  const body = JSON.parse(r.body) as Envelope;
  expect(body.type).toBe('error');
  expect(typeof body.error.message).toBe('string');
  return body;
}

const messagesBody = (stream: boolean): string =>
  JSON.stringify({ model: MODEL, max_tokens: 64, stream, messages: [{ role: 'user', content: 'hi' }] });

const modelHeaders = (key: string): Record<string, string> => ({
  'x-api-key': key,
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
});

/** A `serve` process whose one provider is the emulator, plus a key created through the admin API. */
async function serveOnEmulator(server: Record<string, unknown>): Promise<{ served: Served; emu: AnthropicEmulator; key: string }> {
  const emu = await AnthropicEmulator.start();
  emulator = emu;
  const dir = makeTempDir('serve');
  const config = writeConfig(dir, {
    server,
    providers: { anthropic: { kind: 'anthropic', api_key: `env:${UPSTREAM_KEY_VAR}`, base_url: emu.url } },
    default_provider: 'anthropic',
  });
  const served = await startServe(
    ['--config', config, '--host', '127.0.0.1', '--port', '0', '--data', join(dir, 'data')],
    cliEnv({ [UPSTREAM_KEY_VAR]: emu.apiKey, GATEHOUSE_ADMIN_KEY: ADMIN_KEY }),
  );
  expect(served.proc.stdout).toMatch(/@anthropic\s+anthropic\s+http:\/\/127\.0\.0\.1:\d+\s+ready \(api_key from env:\w+\)$/m);
  const created = await http(`${served.url}/api/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'shutdown-test' }),
  });
  expect(created.status, created.body).toBe(201);
  return { served, emu, key: (JSON.parse(created.body) as { key: string }).key };
}

describe('gatehouse serve on a fresh machine', () => {
  it('starts from the example config without credentials and says what is missing', async () => {
    const data = join(makeTempDir('fresh'), 'data'); // does not exist yet: serve creates it
    const served = await startServe(['--config', EXAMPLE_CONFIG, '--port', '0', '--data', data], cliEnv());
    const out = served.proc.stdout;

    expect(out).toMatch(/^Gatehouse \d+\.\d+\.\d+\S* listening on http:\/\/127\.0\.0\.1:\d+$/m);
    expect(served.port).toBeGreaterThan(0);
    expect(served.port).not.toBe(8787); // --port 0 overrides the config's port
    expect(out).toMatch(/^\s+@anthropic\s.*NOT READY: set the environment variable ANTHROPIC_API_KEY\.$/m);
    // Pasteable as printed: it names this gateway's URL and data directory (neither is the default here).
    expect(out).toMatch(/Create a first key:\n\s+GATEHOUSE_URL=http:\/\/127\.0\.0\.1:\d+ npx gatehouse keys create --name \S+ --data \S+/);

    const adminKeyFile = join(data, 'admin.key');
    expect(out).toContain(`generated into ${adminKeyFile}`);
    expect(existsSync(adminKeyFile)).toBe(true);
    expect((statSync(adminKeyFile).mode & 0o777).toString(8)).toBe('600');
    const adminKey = readFileSync(adminKeyFile, 'utf8').trim();
    expect(adminKey.length).toBeGreaterThanOrEqual(32);
    expect(out).not.toContain(adminKey); // the banner says where the key is, never the key
    expect(served.proc.stderr).not.toContain(adminKey);

    // Claude Code warms the connection with these.
    for (const path of ['/', '/api/hello']) {
      const r = await http(served.url + path, { method: 'HEAD' });
      expect(r.status, `HEAD ${path}`).toBe(200);
    }

    // A first key, the way the banner suggests, finding the generated admin key through --data.
    const created = await runCli(['keys', 'create', '--name', 'first', '--data', data, '--json'], cliEnv({ GATEHOUSE_URL: served.url }));
    expect(created.code, created.stderr).toBe(0);
    const key = parseJsonOut<{ id: string; key: string }>(created).key;
    expect(key).toMatch(/^ghk_/);

    const r = await http(`${served.url}/v1/messages`, { method: 'POST', headers: modelHeaders(key), body: messagesBody(false) });
    expect(r.status, r.body).toBe(500);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const body = envelope(r);
    expect(body.error.type).toBe('api_error');
    expect(body.error.message).toContain('ANTHROPIC_API_KEY');
    expect(r.headers['request-id']).toMatch(/^req_/);
    expect(body.request_id).toBe(r.headers['request-id']);
    expect(r.headers['x-should-retry']).toBe('false');

    // SIGINT (Ctrl-C) on an idle gateway: a clean stop.
    served.proc.signal('SIGINT');
    const exit = await served.proc.waitExit(15_000);
    expect(exit, served.proc.describe()).toEqual({ code: 0, signal: null });
    expect(served.proc.stderr).toContain('gatehouse: stopped.');
  });
});

describe('gatehouse serve with a broken config', () => {
  it('exits 2 and lists every problem with its path, without echoing a literal secret', async () => {
    const dir = makeTempDir('badcfg');
    const config = writeConfig(dir, `{
  // Several mistakes at once: all of them must be reported in one go.
  "server": { "port": "80" },
  "providers": {
    "x": { "kind": "nope" },
    "claude": { "kind": "anthropic", "api_key": "sk-ant-123" },
  },
  "colour": "blue",
}
`);
    const data = join(dir, 'data');
    const r = await runCli(['serve', '--config', config, '--port', '0', '--data', data], cliEnv());

    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).not.toMatch(/listening on/);
    expect(r.stderr).toContain(config);
    expect(r.stderr).toContain('4 problems');
    const problems = r.stderr.split('\n').filter((l) => /^\s+- /.test(l));
    expect(problems, r.stderr).toHaveLength(4);
    expect(problems.some((l) => /^\s+- server\.port: .*number/.test(l)), r.stderr).toBe(true);
    expect(problems.some((l) => /^\s+- providers\.x\.kind: .*anthropic/.test(l)), r.stderr).toBe(true);
    expect(problems.some((l) => /^\s+- providers\.claude\.api_key: .*env:/.test(l)), r.stderr).toBe(true);
    expect(problems.some((l) => /^\s+- colour: unknown key/.test(l)), r.stderr).toBe(true);
    expect(r.stderr).not.toContain('sk-ant-123');
    // Nothing was started, so nothing was written.
    expect(existsSync(data)).toBe(false);
  });

  it('reports a JSONC syntax error with its line and column', async () => {
    const dir = makeTempDir('syntax');
    const config = writeConfig(dir, '{\n  "server": {\n    "port": 8787\n    "host": "127.0.0.1"\n  }\n}\n');
    const r = await runCli(['serve', '--config', config, '--port', '0', '--data', join(dir, 'data')], cliEnv());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/line 4, column 5: ',' is expected/);
    expect(r.stdout).not.toMatch(/listening on/);
  });

  it('exits 2 naming the file when the config file does not exist', async () => {
    const dir = makeTempDir('missing');
    const config = join(dir, 'nope.jsonc');
    const r = await runCli(['serve', '--config', config, '--port', '0', '--data', join(dir, 'data')], cliEnv());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(config);
    expect(r.stderr).toMatch(/cannot read the file \(ENOENT\)/);
  });
});

type Probe = { kind: 'answered'; result: HttpResult } | { kind: 'refused'; code: string };

/** A request on a fresh connection; a connection that is refused or cut before any answer counts as refused. */
async function probeNewConnection(url: string, key: string): Promise<Probe> {
  try {
    return { kind: 'answered', result: await http(`${url}/v1/messages`, { method: 'POST', headers: modelHeaders(key), body: messagesBody(false), timeoutMs: 10_000 }) };
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return { kind: 'refused', code };
    throw e;
  }
}

describe('gatehouse serve shutdown', () => {
  it('on SIGTERM refuses new requests, finishes the in-flight stream, and exits 0', async () => {
    const { served, emu, key } = await serveOnEmulator({ shutdown_grace_ms: 30_000 });
    const events = streamEvents(buildMessage(JSON.parse(messagesBody(true)), [{ type: 'text', text: 'Drained streams finish before the gateway exits.' }], {}));
    expect(events).toHaveLength(10);
    emu.enqueue({ kind: 'sse', events: events.flatMap((e, i) => (i === 0 ? [e] : [{ delayMs: 150 }, e])) });

    // Keep-alive, as the SDKs and Claude Code use: the connection stays open after the stream, and
    // the gateway must still exit when the stream is done, well before the 30 s grace period.
    const agent = new Agent({ keepAlive: true });
    const call = streamingCall(`${served.url}/v1/messages`, { method: 'POST', headers: modelHeaders(key), body: messagesBody(true), agent });
    const head = await call.response;
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
    await call.firstChunk;

    served.proc.signal('SIGTERM');
    await served.proc.waitFor('stderr', /SIGTERM, draining in-flight requests/);

    const probe = await probeNewConnection(served.url, key);
    // The probe is only meaningful while the first stream is still running.
    expect(call.text(), 'the stream finished before the probe; the test proved nothing').not.toContain('message_stop');
    if (probe.kind === 'answered') {
      expect(probe.result.status, probe.result.body).toBe(503);
      const body = envelope(probe.result);
      expect(body.error.type).toBe('overloaded_error');
      expect(probe.result.headers['request-id']).toMatch(/^req_/);
      expect(probe.result.headers['x-should-retry']).toBe('true');
    } else {
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(probe.code);
    }

    const end = await call.done;
    expect(end.error).toBeUndefined();
    expect(end.complete).toBe(true);
    expect(end.text.endsWith(MESSAGE_STOP), end.text).toBe(true);
    // Byte for byte what the provider sent.
    const upstream = emu.requests[0];
    expect(upstream?.responseBytes.toString('utf8')).toBe(end.text);
    expect(upstream?.aborted).toBe(false);
    // The probe never reached the provider.
    expect(emu.requests).toHaveLength(1);

    const exit = await served.proc.waitExit(20_000);
    agent.destroy();
    expect(exit, served.proc.describe()).toEqual({ code: 0, signal: null });
    expect(served.proc.stderr).toContain('gatehouse: stopped.');
  });

  it('with a stalled stream, exits soon after shutdown_grace_ms instead of waiting for it', async () => {
    const { served, emu, key } = await serveOnEmulator({ shutdown_grace_ms: 300 });
    emu.enqueue({ kind: 'stall', afterEvents: 2 });

    const call = streamingCall(`${served.url}/v1/messages`, { method: 'POST', headers: modelHeaders(key), body: messagesBody(true) });
    expect((await call.response).status).toBe(200);
    await call.waitForText(/event: content_block_start\n/); // both events are through; now it stalls

    const sentAt = Date.now();
    served.proc.signal('SIGTERM');
    const exit = await served.proc.waitExit(15_000);
    const tookMs = Date.now() - sentAt;
    expect(exit, served.proc.describe()).toEqual({ code: 0, signal: null });
    expect(tookMs, served.proc.describe()).toBeLessThan(5_000);
    expect(served.proc.stderr).toContain('gatehouse: stopped.');

    const end = await call.done;
    expect(end.complete).toBe(false);
    expect(end.text).not.toContain('message_stop');
    // The gateway hung up on the provider too.
    const upstream = emu.requests[0];
    expect(upstream).toBeDefined();
    await upstream?.done;
    expect(upstream?.aborted).toBe(true);
  });
});

describe('gatehouse serve request logs', () => {
  it('loses no log row of a request the client saw finish, even when the process is killed (SIGKILL)', async () => {
    const emu = await AnthropicEmulator.start();
    emulator = emu;
    const dir = makeTempDir('crash');
    const config = writeConfig(dir, {
      providers: { anthropic: { kind: 'anthropic', api_key: `env:${UPSTREAM_KEY_VAR}`, base_url: emu.url } },
      default_provider: 'anthropic',
    });
    const args = ['--config', config, '--host', '127.0.0.1', '--port', '0', '--data', join(dir, 'data')];
    const env = cliEnv({ [UPSTREAM_KEY_VAR]: emu.apiKey, GATEHOUSE_ADMIN_KEY: ADMIN_KEY });
    const first = await startServe(args, env);
    const created = await http(`${first.url}/api/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crash' }) });
    const key = (JSON.parse(created.body) as { key: string }).key;
    // 30 requests, streamed and not, ten at a time; the process dies the moment the last one ends.
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => http(`${first.url}/v1/messages`, { method: 'POST', headers: modelHeaders(key), body: messagesBody(i % 2 === 0) })));
      for (const a of answers) {
        expect(a.status, a.body).toBe(200);
        ids.push(String(a.headers['x-portkey-trace-id']));
      }
    }
    first.proc.signal('SIGKILL');
    await first.proc.waitExit(5_000);

    const second = await startServe(args, env);
    const logs = await http(`${second.url}/api/admin/logs?limit=100`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const rows = (JSON.parse(logs.body) as { data: Array<{ id: string; status: number; input_tokens: number }> }).data;
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.status === 200 && r.input_tokens > 0)).toBe(true);
    second.proc.signal('SIGTERM');
    await second.proc.waitExit(10_000);
  });
});
