// `gatehouse keys ...` as real processes against a real `gatehouse serve` process.
// Needs the built CLI (`npm run build`; `npm test` builds before vitest).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyView, KeyWithSecret } from '../../gateway/src/api/schemas.js';
import {
  cleanup, cliEnv, closedPort, EXAMPLE_CONFIG, http, makeTempDir, parseJsonOut, runCli, startServe,
  type CliResult, type HttpResult, type Served,
} from './harness.js';

const ADMIN_KEY = 'gha_cli_keys_test_admin_0123456789';
const DAY_MS = 86_400_000;

afterEach(cleanup);

interface Gateway {
  served: Served;
  data: string;
  /** Runs `gatehouse keys <args>` with GATEHOUSE_URL and GATEHOUSE_ADMIN_KEY pointing at this gateway. */
  keys(args: string[], env?: Record<string, string>): Promise<CliResult>;
}

async function startGateway(): Promise<Gateway> {
  const data = join(makeTempDir('keys'), 'data');
  const served = await startServe(['--config', EXAMPLE_CONFIG, '--port', '0', '--data', data], cliEnv({ GATEHOUSE_ADMIN_KEY: ADMIN_KEY }));
  expect(served.proc.stdout).toContain('Admin key: from env:GATEHOUSE_ADMIN_KEY');
  return {
    served,
    data,
    keys: (args, env = {}) => runCli(['keys', ...args], cliEnv({ GATEHOUSE_URL: served.url, GATEHOUSE_ADMIN_KEY: ADMIN_KEY, ...env })),
  };
}

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`).toBe(0);
  return r;
}

interface Envelope {
  type: string;
  error: { type: string; message: string };
}

async function listModels(url: string, key: string): Promise<HttpResult> {
  return http(`${url}/v1/models`, { headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } });
}

function authError(r: HttpResult): string {
  expect(r.status, r.body).toBe(401);
  const body = JSON.parse(r.body) as Envelope;
  expect(body.type).toBe('error');
  expect(body.error.type).toBe('authentication_error');
  return body.error.message;
}

/** Every key string found in any of the SQLite files (the -wal holds recent writes until a checkpoint). */
function secretsOnDisk(data: string, secrets: string[]): string[] {
  const files = ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-journal'].map((f) => join(data, f)).filter((f) => existsSync(f));
  expect(files).toContain(join(data, 'gatehouse.db'));
  const found: string[] = [];
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const s of secrets) {
      if (bytes.includes(Buffer.from(s, 'utf8'))) found.push(`${s} in ${f}`);
    }
  }
  return found;
}

describe('gatehouse keys against a running gateway', () => {
  it('creates, lists, rotates and revokes a key, and the database never holds a key', async () => {
    const gw = await startGateway();
    const { url } = gw.served;

    const before = Date.now();
    const created = parseJsonOut<KeyWithSecret>(ok(await gw.keys(['create', '--name', 'alice', '--metadata', '{"team":"eng"}', '--expires', '30d', '--json'])));
    const after = Date.now();
    expect(created.id).toMatch(/^key_/);
    expect(created.key).toMatch(/^ghk_[A-Za-z0-9]{20,}$/);
    expect(created.prefix.length).toBeGreaterThan('ghk_'.length);
    expect(created.prefix.length).toBeLessThan(created.key.length);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created).toMatchObject({ name: 'alice', workspace: 'default', metadata: { team: 'eng' }, status: 'active', revoked_at: null });
    expect(created.expires_at).not.toBeNull();
    const expires = Date.parse(created.expires_at ?? '');
    expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY_MS - 1_000);
    expect(expires).toBeLessThanOrEqual(after + 30 * DAY_MS + 1_000);

    // The policy flags scripts depend on.
    const policed = parseJsonOut<KeyWithSecret>(
      ok(await gw.keys(['create', '--name', 'carol', '--budget-usd', '25', '--budget-period', 'day', '--rpm', '60', '--tpm', '200000', '--max-concurrent', '4', '--allowed-models', 'claude-sonnet-*,claude-haiku-*', '--metadata', '{"team":"eng"}', '--required-metadata', 'user', '--json'])),
    );
    expect(policed).toMatchObject({ allowed_models: ['claude-sonnet-*', 'claude-haiku-*'], required_metadata: ['user'], metadata: { team: 'eng' }, rpm: 60, tpm: 200000, max_concurrent: 4, budget_usd: 25, budget_tokens: null, budget_period: 'day' });
    const bad = await gw.keys(['create', '--name', 'dave', '--budget-usd', '25', '--budget-period', 'yearly']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--budget-period must be one of day, week, month, lifetime; got "yearly"/);
    const raised = parseJsonOut<KeyView>(ok(await gw.keys(['update', policed.id, '--budget-usd', '40', '--rpm', 'none', '--json'])));
    expect(raised).toMatchObject({ id: policed.id, budget_usd: 40, budget_period: 'day', rpm: null, tpm: 200000 });

    // The human form shows the key once, with the warning.
    const bobOut = ok(await gw.keys(['create', '--name', 'bob'])).stdout;
    const bobKey = /\b(ghk_[A-Za-z0-9]+)\b/.exec(bobOut)?.[1];
    expect(bobKey, bobOut).toBeDefined();
    expect(bobOut).toMatch(/only time the key is shown/);

    // list --json: the key's record, never its secret.
    const listed = ok(await gw.keys(['list', '--json']));
    const { data } = parseJsonOut<{ data: Array<KeyView & { key?: unknown }> }>(listed);
    const alice = data.find((k) => k.id === created.id);
    expect(alice).toMatchObject({ name: 'alice', prefix: created.prefix, metadata: { team: 'eng' }, expires_at: created.expires_at, status: 'active' });
    expect(alice && 'key' in alice).toBe(false);
    expect(data.map((k) => k.name).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(listed.stdout).not.toContain(created.key);
    expect(listed.stdout).not.toContain(bobKey);

    // list: a table for people.
    const table = ok(await gw.keys(['list'])).stdout;
    expect(table).toMatch(/^ID\s+NAME\s+PREFIX\s/m);
    const row = table.split('\n').find((l) => l.startsWith(created.id));
    expect(row, table).toBeDefined();
    expect(row).toMatch(/\balice\b/);
    expect(row).toContain(created.prefix);
    expect(row).toMatch(/\bactive\b/);
    expect(table).not.toContain(created.key);

    expect((await listModels(url, created.key)).status).toBe(200);

    // rotate with no grace: the old key stops at once, the new one works.
    const rotated = parseJsonOut<KeyWithSecret>(ok(await gw.keys(['rotate', created.id, '--grace', '0s', '--json'])));
    expect(rotated.id).toBe(created.id);
    expect(rotated.key).toMatch(/^ghk_/);
    expect(rotated.key).not.toBe(created.key);
    expect(rotated.key.startsWith(rotated.prefix)).toBe(true);
    expect(rotated.rotated_at).not.toBeNull();

    expect(authError(await listModels(url, created.key))).toMatch(/rotated/i);
    const fresh = await listModels(url, rotated.key);
    expect(fresh.status, fresh.body).toBe(200);
    expect((JSON.parse(fresh.body) as { data: unknown[] }).data.length).toBeGreaterThan(0);

    // revoke: the current key stops too.
    const revoked = ok(await gw.keys(['revoke', created.id]));
    expect(revoked.stdout).toContain(`Revoked key ${created.id} (alice)`);
    expect(authError(await listModels(url, rotated.key))).toMatch(/revoked/i);
    const afterRevoke = parseJsonOut<{ data: KeyView[] }>(ok(await gw.keys(['list', '--json']))).data;
    expect(afterRevoke.find((k) => k.id === created.id)).toMatchObject({ status: 'revoked' });
    expect(afterRevoke.find((k) => k.id === created.id)?.revoked_at).not.toBeNull();
    expect((await listModels(url, bobKey ?? '')).status).toBe(200);

    // Only hashes are stored: no key (nor the admin key) in the database or its WAL, while running...
    const secrets = [created.key, rotated.key, bobKey ?? '', policed.key, ADMIN_KEY];
    expect(secretsOnDisk(gw.data, secrets)).toEqual([]);
    // ...nor after a clean stop has checkpointed the WAL into the main file.
    gw.served.proc.signal('SIGTERM');
    expect(await gw.served.proc.waitExit(15_000), gw.served.proc.describe()).toEqual({ code: 0, signal: null });
    expect(secretsOnDisk(gw.data, secrets)).toEqual([]);
  });
});

describe('gatehouse keys errors', () => {
  it('keys create without --name says so, before calling anything', async () => {
    const port = await closedPort();
    const r = await runCli(['keys', 'create', '--json'], cliEnv({ GATEHOUSE_URL: `http://127.0.0.1:${port}`, GATEHOUSE_ADMIN_KEY: ADMIN_KEY }));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/keys create needs --name NAME/);
    expect(r.stderr).not.toMatch(/cannot reach/);
  });

  it('names the URL when no gateway is listening there', async () => {
    const port = await closedPort();
    const target = `http://127.0.0.1:${port}`;
    const r = await runCli(['keys', 'list'], cliEnv({ GATEHOUSE_URL: target, GATEHOUSE_ADMIN_KEY: ADMIN_KEY }));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`cannot reach the gateway at ${target}`);
    expect(r.stderr).toMatch(/GATEHOUSE_URL/);
    expect(r.stderr).not.toMatch(/^\s+at /m); // a sentence, not a stack trace
  });

  it('says the admin key is wrong, and changes nothing, when GATEHOUSE_ADMIN_KEY does not match', async () => {
    const gw = await startGateway();
    const wrong = 'gha_not_the_admin_key_000000000000';
    for (const args of [['list'], ['create', '--name', 'mallory', '--json']]) {
      const r = await gw.keys(args, { GATEHOUSE_ADMIN_KEY: wrong });
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/admin key/i);
      expect(r.stderr).toMatch(/401/);
      expect(r.stderr).not.toContain(wrong);
    }
    const { data } = parseJsonOut<{ data: KeyView[] }>(ok(await gw.keys(['list', '--json'])));
    expect(data).toEqual([]);
  });

  it('says where to get an admin key when there is none', async () => {
    const port = await closedPort();
    // A fresh cwd with no ./.gatehouse, no --data, no GATEHOUSE_ADMIN_KEY.
    const r = await runCli(['keys', 'list'], cliEnv({ GATEHOUSE_URL: `http://127.0.0.1:${port}` }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no admin key/);
    expect(r.stderr).toMatch(/GATEHOUSE_ADMIN_KEY/);
    expect(r.stderr).toMatch(/--data/);
  });

  it('rejects an unknown keys subcommand with exit code 2 and the list of commands', async () => {
    const port = await closedPort();
    const r = await runCli(['keys', 'frobnicate'], cliEnv({ GATEHOUSE_URL: `http://127.0.0.1:${port}`, GATEHOUSE_ADMIN_KEY: ADMIN_KEY }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/create, list, update, revoke or rotate/);
  });
});
