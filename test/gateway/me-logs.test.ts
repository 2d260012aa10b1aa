// A developer key reads the bodies of its own requests through /api/me/logs/:id/bodies (what the
// extension's log view shows on a row's detail); another key's row, a row without bodies and an
// unknown id all get the same 404, so a key cannot probe which request ids exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let mine: string;
let theirs: string;
let quiet: string;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { workspaces: { audit: { log_bodies: 'full' } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
  mine = (await gw.createKey({ name: 'mine', workspace: 'audit' })).key;
  theirs = (await gw.createKey({ name: 'theirs', workspace: 'audit' })).key;
  quiet = (await gw.createKey({ name: 'quiet' })).key;
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

/** One non-streaming request; returns the gateway's id of its log row. */
async function ask(key: string, text: string): Promise<string> {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get('x-portkey-trace-id')!;
}

const bodies = (key: string, id: string) => fetch(`${gw.url}/api/me/logs/${id}/bodies`, { headers: { authorization: `Bearer ${key}` } });

describe('GET /api/me/logs/:id/bodies', () => {
  it('gives a key the bodies of its own request', async () => {
    const id = await ask(mine, 'my own words');
    const res = await bodies(mine, id);
    expect(res.status).toBe(200);
    const kept = (await res.json()) as { request?: { messages?: unknown }; response?: string; summary: { messages: number } };
    expect(kept.request?.messages).toEqual([{ role: 'user', content: 'my own words' }]);
    expect(kept.summary.messages).toBe(1);
    expect(kept.response).toBeTruthy();
  });

  it("answers another key's row, a row without bodies and an unknown id with the same 404", async () => {
    const id = await ask(mine, 'not for others');
    const other = await bodies(theirs, id);
    expect(other.status).toBe(404);
    const otherBody = (await other.json()) as { error: { type: string; message: string } };
    expect(otherBody.error.type).toBe('not_found_error');
    expect(JSON.stringify(otherBody)).not.toContain('not for others');

    const none = await ask(quiet, 'kept nowhere');
    const noBodies = (await (await bodies(quiet, none)).json()) as { error: { message: string } };
    expect(noBodies.error.message).toBe(`Bodies of log ${none} (none are kept under the "none" policy) was not found.`);

    const unknown = await bodies(mine, 'req_does_not_exist');
    expect(unknown.status).toBe(404);
    // Same words whether the row is someone else's or does not exist: nothing to tell them apart.
    expect(otherBody.error.message.replace(id, 'ID')).toBe(((await unknown.json()) as { error: { message: string } }).error.message.replace('req_does_not_exist', 'ID'));
  });

  it('refuses a request without a key', async () => {
    expect((await fetch(`${gw.url}/api/me/logs/x/bodies`)).status).toBe(401);
  });
});
