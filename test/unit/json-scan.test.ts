// The byte-level scan must accept every JSON object JSON.parse accepts (it decides what reaches
// the provider) and locate the usual mistakes.
import { describe, expect, it } from 'vitest';
import { scanJson } from '../../gateway/src/wire/json-scan.js';
import { RequestBody } from '../../gateway/src/wire/request-body.js';

// A small deterministic generator of arbitrary JSON values (seeded LCG, so failures reproduce).
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const CHARS = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', 'é', '😀', '{', '}', '[', ']', ',', ':', '\u0001', '\u2028'];
function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 7));
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return [0, -1, 1.5, -2.25e-7, 1e21, 123456789][Math.floor(r() * 6)];
    case 3:
    case 4: return Array.from({ length: Math.floor(r() * 8) }, () => CHARS[Math.floor(r() * CHARS.length)]).join('');
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`k${i}${CHARS[Math.floor(r() * CHARS.length)]}`, value(r, depth + 1)]));
  }
}

describe('scanJson', () => {
  it('accepts 2,000 random JSON objects, compact and pretty-printed, and finds their top-level members', () => {
    const r = rng(42);
    for (let n = 0; n < 2_000; n++) {
      const obj = { model: 'claude-opus-5-5', stream: r() < 0.5, body: value(r, 0), max_tokens: 1024 };
      for (const text of [JSON.stringify(obj), JSON.stringify(obj, null, r() < 0.5 ? 2 : '\t')]) {
        const res = scanJson(Buffer.from(text));
        expect(res.ok, text).toBe(true);
        const body = RequestBody.scan(Buffer.from(text));
        expect(body instanceof RequestBody && body.string('model')).toBe('claude-opus-5-5');
        expect(body instanceof RequestBody && body.boolean('stream')).toBe(obj.stream);
        expect(body instanceof RequestBody && body.number('max_tokens')).toBe(1024);
        expect(body instanceof RequestBody && JSON.parse(body.text('body')!)).toEqual(obj.body);
      }
    }
  });

  it.each([
    ['{"a": }', 6, 'a value is expected'],
    ['{"a": 1,}', 8, 'a property name in double quotes is expected'],
    ['{"a": [1, 2,]}', 12, 'a value is expected'],
    ['{"a": 1', 7, 'the body ends too early'],
    ['{"a": "x}', 9, 'a string is not terminated'],
    ["{'a': 1}", 1, 'a property name in double quotes is expected'],
    ['{"a": 01}', 7, "',' or '}' is expected"],
    ['{"a": tru}', 6, 'unexpected character'],
    ['{"a": 1} x', 9, 'unexpected content after the JSON object'],
    ['{"a" 1}', 5, "':' is expected"],
    ['{"a": {"b": [}]}}', 13, 'a value is expected'],
  ])('rejects %s at offset %i: %s', (text, offset, what) => {
    expect(scanJson(Buffer.from(text))).toEqual({ ok: false, offset, what });
    expect(() => JSON.parse(text)).toThrow();
  });

  it('rejects a body that is JSON but not an object', () => {
    expect(scanJson(Buffer.from(' [1, 2]'))).toEqual({ ok: false, offset: 1, what: 'the body must be a JSON object' });
  });

  it('decodes escaped keys and strings at the top level', () => {
    const body = RequestBody.scan(Buffer.from('{"mo\\u0064el": "claude-\\"quoted\\"", "n": -1.5e2}'));
    expect(body instanceof RequestBody && body.string('model')).toBe('claude-"quoted"');
    expect(body instanceof RequestBody && body.number('n')).toBe(-150);
  });

  it('stops at absurd nesting instead of overflowing the stack', () => {
    const deep = '{"a":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}';
    expect(scanJson(Buffer.from(deep))).toMatchObject({ ok: false, what: 'nesting is too deep' });
  });
});

describe('RequestBody.edit', () => {
  it('removes and sets top-level members, keeping every other byte as sent', () => {
    const raw = '{ "model" : "claude-opus-5-5",\n  "messages":[{"role":"user","content":"hi"}], "stream":true, "x-unknown": {"keep": [1, 2]} }';
    const body = RequestBody.scan(Buffer.from(raw));
    if (!(body instanceof RequestBody)) throw new Error('scan failed');
    const out = body.edit(['model', 'stream'], { anthropic_version: 'bedrock-2023-05-31', anthropic_beta: ['a', 'b'] }).toString();
    expect(out).toBe('{"messages":[{"role":"user","content":"hi"}],"x-unknown": {"keep": [1, 2]},"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["a","b"]}');
    expect(JSON.parse(out)).toEqual({ messages: [{ role: 'user', content: 'hi' }], 'x-unknown': { keep: [1, 2] }, anthropic_version: 'bedrock-2023-05-31', anthropic_beta: ['a', 'b'] });
  });

  it('replaces a member that is set', () => {
    const body = RequestBody.scan(Buffer.from('{"anthropic_version":"x","a":1}'));
    if (!(body instanceof RequestBody)) throw new Error('scan failed');
    expect(body.edit([], { anthropic_version: 'vertex-2023-10-16' }).toString()).toBe('{"a":1,"anthropic_version":"vertex-2023-10-16"}');
  });
});
