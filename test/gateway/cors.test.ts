// Browser clients (the Claude Office add-ins run on https://pivot.claude.ai) need CORS: the
// preflight answered, Anthropic's headers allowed, and the answer's headers readable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { server: { cors: { origins: ['https://pivot.claude.ai'] } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

describe('CORS', () => {
  it('answers the preflight of an allowed origin, allowing the Anthropic headers', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://pivot.claude.ai',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key,anthropic-version,anthropic-beta,anthropic-dangerous-direct-browser-access,content-type,x-portkey-metadata',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://pivot.claude.ai');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['x-api-key', 'anthropic-version', 'anthropic-beta', 'anthropic-dangerous-direct-browser-access', 'x-portkey-metadata']) expect(allowed).toContain(h);
  });

  it('marks a real (streamed) answer readable by the allowed origin, request-id exposed', async () => {
    const key = (await gw.createKey({ name: 'browser' })).key;
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { origin: 'https://pivot.claude.ai', 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
      body: JSON.stringify({ model: 'm', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://pivot.claude.ai');
    expect(res.headers.get('access-control-expose-headers')).toContain('request-id');
    await res.text();
  });

  it('gives no CORS grant to an origin that is not configured', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
