import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../gateway/src/config/load.js';
import { resolveSecret } from '../../gateway/src/config/secrets.js';

const problems = (text: string): string[] => {
  try {
    parseConfigText(text, 'test.jsonc');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('config file', () => {
  it('accepts JSONC with comments and trailing commas, filling defaults', () => {
    const cfg = parseConfigText('// hi\n{ "providers": { "anthropic": { "kind": "anthropic", "api_key": "env:X", }, }, }', 'f');
    expect(cfg.server.port).toBe(8787);
    expect(cfg.server.body_limit_mb).toBe(32);
    expect(cfg.providers.anthropic?.base_url).toBe('https://api.anthropic.com');
  });

  it('reports every problem at once, each with its path', () => {
    const p = problems(
      JSON.stringify({
        server: { port: '80', timeouts: { idle_ms: -1 } },
        providers: { x: { kind: 'nope' }, y: { kind: 'anthropic', api_key: 'sk-ant-literal-secret' } },
        default_provider: 'missing',
        surprise: true,
      }),
    );
    const text = p.join('\n');
    expect(text).toMatch(/^server\.port: /m);
    expect(text).toMatch(/^server\.timeouts\.idle_ms: /m);
    expect(text).toMatch(/^providers\.x\.kind: kind must be one of: "anthropic"/m);
    expect(text).toMatch(/^providers\.y\.api_key: write secrets as a reference/m);
    expect(text).toMatch(/surprise/);
    expect(p.length).toBeGreaterThanOrEqual(5);
  });

  it('names a default_provider that does not exist', () => {
    const p = problems(JSON.stringify({ providers: { a: { kind: 'anthropic' } }, default_provider: 'b' }));
    expect(p).toEqual(['default_provider: names "b", which is not under "providers" (have: a)']);
  });

  it('reports JSONC syntax errors with line and column', () => {
    expect(problems('{\n  "server": {\n    "port": 8787,,\n  }\n}')).toContain('line 3, column 18: a value is expected');
  });

  it('freezes the result', () => {
    const cfg = parseConfigText('{}', 'f');
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.server.timeouts)).toBe(true);
  });
});

describe('provider config', () => {
  it('accepts the Bedrock and Vertex shapes of the docs', () => {
    const cfg = parseConfigText(
      JSON.stringify({
        providers: {
          'bedrock-prod': { kind: 'bedrock', region: 'us-east-1', access_key_id: 'env:AWS_ACCESS_KEY_ID', secret_access_key: 'env:AWS_SECRET_ACCESS_KEY', base_url: 'http://127.0.0.1:9001' },
          'vertex-prod': { kind: 'vertex', project: 'my-proj', region: 'us-east5', service_account: 'file:/etc/gatehouse/sa.json', base_url: 'http://127.0.0.1:9002/v1', token_url: 'http://127.0.0.1:9002/token' },
        },
      }),
      'f',
    );
    expect(cfg.providers['bedrock-prod']).toMatchObject({ kind: 'bedrock', ping_interval_ms: 10_000 });
    expect(cfg.providers['vertex-prod']).toMatchObject({ kind: 'vertex', project: 'my-proj' });
  });

  it('names Bedrock mistakes by path', () => {
    const p = problems(JSON.stringify({ providers: { b: { kind: 'bedrock', region: 'virginia', access_key_id: 'env:ID' } } }));
    expect(p).toContain('providers.b.region: an AWS region such as "us-east-1"');
    expect(p.join('\n')).toMatch(/providers\.b\.secret_access_key: give access_key_id and secret_access_key together/);
  });
});

describe('secret references', () => {
  it('reads env: references and says which variable to set when missing', () => {
    expect(resolveSecret('env:A_KEY', '/', { A_KEY: ' v ' })).toEqual({ ok: true, value: 'v' });
    expect(resolveSecret('env:A_KEY', '/', {})).toEqual({ ok: false, missing: 'set the environment variable A_KEY.' });
  });

  it('reads file: references relative to the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-secret-'));
    writeFileSync(join(dir, 'k.txt'), 'secret-value\n');
    expect(resolveSecret('file:k.txt', dir)).toEqual({ ok: true, value: 'secret-value' });
    const missing = resolveSecret('file:nope.txt', dir);
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.missing).toMatch(/nope\.txt cannot be read \(ENOENT\)/);
  });
});
