// The pure core of "Connect Claude Code" (extension/src/core): URL normalisation, header and
// metadata composition, settings edits that keep the developer's file, backups that restore it
// exactly, and what can take precedence over the written settings. Files are real (temp dirs);
// the gateway is a canned /api/me answer.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  composeCustomHeaders, connect, ConnectError, disconnect, editSettings, effectiveSettings, fillMetadata, findOverrides, headerProblem, httpProblem,
  mergeCustomHeaders, metadataProblems, networkProblem, nodeFs, normaliseGatewayUrl, parseCustomHeaders, parseMetadataHeader, parseSettings, readSources,
  SettingsError, toStrictJson, UrlError, writeFileAtomic, type CoreFs, type CoreIo, type Exec, type Me,
} from '../../extension/src/core/index.js';

const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-core-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('gateway URL', () => {
  it.each([
    ['https://gw.example.com', 'https://gw.example.com', 0],
    ['https://gw.example.com/', 'https://gw.example.com', 1],
    ['https://gw.example.com/v1', 'https://gw.example.com', 1],
    ['https://gw.example.com/v1/', 'https://gw.example.com', 2],
    ['https://gw.example.com/v1/messages', 'https://gw.example.com', 1],
    ['https://GW.example.com:443/gw/anthropic/', 'https://gw.example.com/gw/anthropic', 1],
    ['gw.example.com', 'https://gw.example.com', 1],
    ['localhost:8787/v1', 'http://localhost:8787', 2],
    ['  http://127.0.0.1:8787  ', 'http://127.0.0.1:8787', 0],
  ])('%s → %s with %i note(s)', (input, url, notes) => {
    const n = normaliseGatewayUrl(input);
    expect(n.url).toBe(url);
    expect(n.notes).toHaveLength(notes);
  });

  it('says why it removed /v1, and warns when a remote gateway is plain http', () => {
    expect(normaliseGatewayUrl('https://gw.example.com/v1').notes[0]).toMatch(/\/v1\/v1\/messages/);
    expect(normaliseGatewayUrl('http://gw.example.com').notes.join()).toMatch(/unencrypted/);
  });

  it.each(['', 'https://gw.example.com/?x=1', 'https://gw.example.com#top', 'https://me:pw@gw.example.com', 'ftp://gw.example.com', 'https://gw example.com', 'http://'])('refuses %j', (input) => {
    expect(() => normaliseGatewayUrl(input)).toThrow(UrlError);
  });
});

describe('custom headers and metadata', () => {
  it('composes the newline-separated lines Claude Code parses back', () => {
    const text = composeCustomHeaders([{ name: 'x-portkey-metadata', value: '{"user":"a@b.c","team":"eng"}' }, { name: 'x-portkey-config', value: 'cfg-1' }]);
    expect(text).toBe('x-portkey-metadata: {"user":"a@b.c","team":"eng"}\nx-portkey-config: cfg-1');
    expect(parseCustomHeaders(text).headers).toEqual([{ name: 'x-portkey-metadata', value: '{"user":"a@b.c","team":"eng"}' }, { name: 'x-portkey-config', value: 'cfg-1' }]);
    expect(parseCustomHeaders('x-a: 1\r\n\r\nbroken line').problems).toHaveLength(1);
  });

  it.each([
    [{ name: 'x team', value: 'v' }, /header name/],
    [{ name: 'x-a', value: 'one\ntwo' }, /line break/],
    [{ name: 'x-a', value: 'bell\u0007' }, /control character/],
    [{ name: 'Authorization', value: 'Bearer z' }, /credential/],
    [{ name: 'x-portkey-api-key', value: 'pk' }, /credential/],
    [{ name: 'x-note', value: 'ghk_abcdefghijklmnop' }, /looks like a key/],
    [{ name: 'x-note', value: 'my-secret-key-123' }, /looks like a key/],
  ])('refuses %j', (h, why) => {
    expect(headerProblem(h, ['my-secret-key-123'])).toMatch(why);
  });

  it('merges into an existing value: managed headers replaced, own lines kept, credential lines dropped', () => {
    const existing = 'x-portkey-metadata: {"old":true}\nx-trace: t1\nx-portkey-api-key: ghk_oldoldoldoldold';
    const m = mergeCustomHeaders(existing, [{ name: 'x-portkey-metadata', value: '{"user":"a"}' }], ['k']);
    expect(m.text).toBe('x-portkey-metadata: {"user":"a"}\nx-trace: t1');
    expect(m.kept).toEqual(['x-trace']);
    expect(m.dropped).toEqual(['x-portkey-api-key']);
    expect(() => mergeCustomHeaders('', [{ name: 'x-a', value: 'k' }, { name: 'X-A', value: 'k2' }], [])).toThrow(/twice/);
  });

  it('fills the template: admin defaults, flags over them, git email for user, then asks; unfilled fields are missing', async () => {
    const asked: string[] = [];
    const r = await fillMetadata({ user: '', team: 'eng', env: '', cost_center: '' }, { env: 'prod', team: 'support' }, { gitEmail: 'dev@example.com', ask: async (f) => (asked.push(f), f === 'cost_center' ? undefined : 'x') });
    expect(r.metadata).toEqual({ user: 'dev@example.com', team: 'support', env: 'prod' });
    expect(r.from).toEqual({ user: 'git', team: 'flag', env: 'flag' });
    expect(r.missing).toEqual(['cost_center']);
    expect(asked).toEqual(['cost_center']);
  });

  it('validates metadata as the gateway and policies read it', () => {
    expect(metadataProblems({ user: 'a', team: 'eng' }, ['user', 'team'])).toEqual([]);
    expect(metadataProblems({ User: 'a' }, ['user']).join()).toMatch(/"user" is missing.*case-sensitive/);
    expect(metadataProblems({ user: 'x'.repeat(513) }, []).join()).toMatch(/longer than 512/);
    expect(metadataProblems({ n: 3 }, []).join()).toMatch(/must be a string/);
    expect(parseMetadataHeader('{"user":"a",}').problem).toMatch(/trailing commas/);
    expect(parseMetadataHeader("{'user':'a'}").problem).toMatch(/not valid JSON/);
    expect(parseMetadataHeader('["a"]').problem).toMatch(/JSON object/);
    expect(parseMetadataHeader('{"user":"a"}').metadata).toEqual({ user: 'a' });
  });
});

describe('settings edits', () => {
  const edits = [{ path: ['env', 'ANTHROPIC_BASE_URL'], value: 'https://gw' }, { path: ['model'], value: 'claude-sonnet-5-5' }];

  it('keeps other keys, their order and the indentation; removes comments and trailing commas, which Claude Code refuses', () => {
    const text = '{\n    // my theme\n    "theme": "dark", /* inline */\n    "permissions": { "allow": ["Bash(ls)",], },\n    "env": {\n        "FOO": "bar"\n    }\n}\n';
    const r = editSettings('s.json', text, edits);
    expect(r.text).toBe('{\n    "theme": "dark",\n    "permissions": { "allow": ["Bash(ls)"] },\n    "env": {\n        "FOO": "bar",\n        "ANTHROPIC_BASE_URL": "https://gw"\n    },\n    "model": "claude-sonnet-5-5"\n}\n');
    expect(r.notes.join()).toMatch(/2 comments and 2 trailing commas/);
    expect(JSON.parse(r.text)).toMatchObject({ theme: 'dark', env: { FOO: 'bar' } });
  });

  it('keeps tabs and CRLF line endings, and is a no-op when the values are already there', () => {
    const text = '{\r\n\t"env": {\r\n\t\t"ANTHROPIC_BASE_URL": "https://old"\r\n\t}\r\n}\r\n';
    const once = editSettings('s.json', text, edits).text;
    expect(once).toBe('{\r\n\t"env": {\r\n\t\t"ANTHROPIC_BASE_URL": "https://gw"\r\n\t},\r\n\t"model": "claude-sonnet-5-5"\r\n}\r\n');
    expect(editSettings('s.json', once, edits)).toEqual({ text: once, notes: [] });
  });

  it('starts a missing, empty or one-line file', () => {
    expect(JSON.parse(editSettings('s.json', null, edits).text)).toEqual({ env: { ANTHROPIC_BASE_URL: 'https://gw' }, model: 'claude-sonnet-5-5' });
    expect(JSON.parse(editSettings('s.json', '  \n', edits).text)).toEqual({ env: { ANTHROPIC_BASE_URL: 'https://gw' }, model: 'claude-sonnet-5-5' });
    expect(JSON.parse(editSettings('s.json', '{"a":1,"env":{}}', edits).text)).toEqual({ a: 1, env: { ANTHROPIC_BASE_URL: 'https://gw' }, model: 'claude-sonnet-5-5' });
  });

  it('refuses invalid JSON with its line and column, a non-object root and a non-object env', () => {
    expect(() => parseSettings('s.json', '{\n  "a": 1\n  "b": 2\n}')).toThrow(/s\.json:3:3: .*CommaExpected/);
    expect(() => parseSettings('s.json', '[1]')).toThrow(/JSON object/);
    expect(() => parseSettings('s.json', '{"env":"x"}')).toThrow(/"env" must be an object/);
    expect(toStrictJson('[1,2,]').text).toBe('[1,2]');
  });

  it('writes atomically with mode 0600 whatever the umask, in a new 0700 directory, and through a symlink', async () => {
    const d = temp();
    const old = process.umask(0);
    await writeFileAtomic(nodeFs, join(d, 'new', 'settings.json'), '{}').finally(() => process.umask(old));
    expect([statSync(join(d, 'new', 'settings.json')).mode & 0o777, statSync(join(d, 'new')).mode & 0o777]).toEqual([0o600, 0o700]);
    mkdirSync(join(d, 'dotfiles'));
    writeFileSync(join(d, 'dotfiles', 'settings.json'), '{}', { mode: 0o644 });
    symlinkSync(join(d, 'dotfiles', 'settings.json'), join(d, 'settings.json'));
    await writeFileAtomic(nodeFs, join(d, 'settings.json'), '{"a":1}\n');
    expect(lstatSync(join(d, 'settings.json')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'dotfiles', 'settings.json'), 'utf8')).toBe('{"a":1}\n');
    expect(statSync(join(d, 'dotfiles', 'settings.json')).mode & 0o777).toBe(0o600);
  });

  it('reports an unwritable file without touching it or leaving a temp file', async () => {
    const d = temp();
    const file = join(d, 'settings.json');
    writeFileSync(file, '{"keep":true}');
    const denied: CoreFs = { ...nodeFs, rename: async () => Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' })) };
    await expect(writeFileAtomic(denied, file, '{}')).rejects.toThrow(SettingsError);
    await expect(writeFileAtomic(denied, file, '{}')).rejects.toThrow(/permission denied \(EACCES\)/);
    expect(readFileSync(file, 'utf8')).toBe('{"keep":true}');
    await expect(nodeFs.readdir(d)).resolves.toEqual(['settings.json']);
  });
});

// --- connect and disconnect over real files, with a canned gateway ------------------------------

const ME: Me = {
  key: { id: 'key_1', name: 'dev', prefix: 'ghk_abcdef', status: 'active', expires_at: null, provider: null, config: null, allowed_models: null, required_metadata: ['user'], metadata: {} },
  workspace: { id: 'eng', name: 'Engineering', allowed_models: null, providers: null },
  budgets: [],
  profile: { metadata_template: { user: '', team: 'eng' }, required_metadata: ['user'], models: { default: 'claude-sonnet-5-5', opus: 'claude-opus-5-5', sonnet: 'claude-sonnet-5-5', haiku: 'claude-haiku-5-5' }, headers: { 'x-portkey-config': 'eng-default' } },
};

function place(me: Me = ME, env: Record<string, string> = {}): CoreIo & { settings: string } {
  const d = temp();
  mkdirSync(join(d, 'home'));
  mkdirSync(join(d, 'proj'));
  const exec: Exec = async (file, args) => (file === 'git' && args[1] === '--get' ? { code: 0, stdout: 'dev@example.com\n', stderr: '' } : { code: 128, stdout: '', stderr: '' });
  const fetch = async (url: string) => (url.endsWith('/api/me') ? new Response(JSON.stringify(me)) : new Response('{}', { status: 404 }));
  return { fs: nodeFs, fetch, exec, home: join(d, 'home'), cwd: join(d, 'proj'), env, platform: 'linux', managedDir: join(d, 'managed'), settings: join(d, 'home', '.claude', 'settings.json') };
}

describe('connect and disconnect', () => {
  it('writes every key, keeps the rest, then disconnect restores the exact bytes and mode', async () => {
    const io = place();
    const before = '{\n  // mine\n  "theme": "dark",\n  "env": { "ANTHROPIC_CUSTOM_HEADERS": "x-trace: t1" }\n}\n';
    mkdirSync(join(io.home, '.claude'));
    writeFileSync(io.settings, before, { mode: 0o644 });
    const r = await connect({ gateway: 'http://127.0.0.1:9/v1/', key: 'ghk_secretsecret', scope: 'user' }, io);
    expect(r.status).toBe('written');
    expect(JSON.parse(readFileSync(io.settings, 'utf8'))).toEqual({
      theme: 'dark',
      env: {
        ANTHROPIC_CUSTOM_HEADERS: 'x-portkey-metadata: {"user":"dev@example.com","team":"eng"}\nx-portkey-config: eng-default\nx-trace: t1',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', ANTHROPIC_AUTH_TOKEN: 'ghk_secretsecret', ANTHROPIC_DEFAULT_OPUS_MODEL: 'claude-opus-5-5',
        ANTHROPIC_DEFAULT_SONNET_MODEL: 'claude-sonnet-5-5', ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-5-5', CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1',
      },
      model: 'claude-sonnet-5-5',
    });
    expect(statSync(io.settings).mode & 0o777).toBe(0o600);
    expect(r.written.ANTHROPIC_AUTH_TOKEN).not.toContain('secretsecret');
    expect(r.notes.join(' ')).toMatch(/trailing slash.*\/v1.*Kept your own header x-trace.*1 comment/);

    expect((await connect({ gateway: 'http://127.0.0.1:9', key: 'ghk_secretsecret', scope: 'user' }, io)).status).toBe('unchanged');
    expect(await disconnect('user', io)).toMatchObject({ status: 'restored', how: 'exact' });
    expect(readFileSync(io.settings, 'utf8')).toBe(before);
    expect(statSync(io.settings).mode & 0o777).toBe(0o644);
    expect((await disconnect('user', io)).status).toBe('nothing');
  });

  it('restores key by key after the developer edited the file, and removes a file it created', async () => {
    const io = place();
    await connect({ gateway: 'http://127.0.0.1:9', key: 'ghk_secretsecret', scope: 'user' }, io);
    const edited = JSON.parse(readFileSync(io.settings, 'utf8')) as Record<string, unknown>;
    writeFileSync(io.settings, JSON.stringify({ ...edited, theme: 'light' }, null, 2));
    expect(await disconnect('user', io)).toMatchObject({ how: 'keys' });
    expect(JSON.parse(readFileSync(io.settings, 'utf8'))).toEqual({ theme: 'light' });

    rmSync(io.settings);
    await connect({ gateway: 'http://127.0.0.1:9', key: 'ghk_secretsecret', scope: 'user' }, io);
    expect(await disconnect('user', io)).toMatchObject({ how: 'exact' });
    expect(() => statSync(io.settings)).toThrow(/ENOENT/);
  });

  it('puts back a key an earlier connect wrote once the profile stops setting it', async () => {
    const io = place();
    mkdirSync(join(io.home, '.claude'));
    writeFileSync(io.settings, '{"env":{"ANTHROPIC_DEFAULT_OPUS_MODEL":"mine"}}');
    await connect({ gateway: 'http://127.0.0.1:9', key: 'ghk_secretsecret', scope: 'user' }, io);
    const io2 = { ...io, fetch: async () => new Response(JSON.stringify({ ...ME, profile: { ...ME.profile, models: {} } })) };
    await connect({ gateway: 'http://127.0.0.1:9', key: 'ghk_secretsecret', scope: 'user' }, io2);
    const s = JSON.parse(readFileSync(io.settings, 'utf8')) as { env: Record<string, string>; model?: string };
    expect(s.env.ANTHROPIC_DEFAULT_OPUS_MODEL).toBe('mine');
    expect(s.model).toBeUndefined();
    await disconnect('user', io);
    expect(readFileSync(io.settings, 'utf8')).toBe('{"env":{"ANTHROPIC_DEFAULT_OPUS_MODEL":"mine"}}');
  });

  it('refuses invalid JSON, missing required metadata and a bad URL without writing', async () => {
    const io = place({ ...ME, profile: { ...ME.profile, metadata_template: { team: 'eng' }, required_metadata: ['cost_center'] } });
    await expect(connect({ gateway: 'http://127.0.0.1:9', key: 'k', scope: 'user' }, io)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/"cost_center" is missing/) });
    await expect(connect({ gateway: 'ftp://x', key: 'k', scope: 'user' }, io)).rejects.toBeInstanceOf(ConnectError);
    mkdirSync(join(io.cwd, '.claude'));
    writeFileSync(join(io.cwd, '.claude', 'settings.local.json'), '{ "a": ');
    await expect(connect({ gateway: 'http://127.0.0.1:9', key: 'k', scope: 'local', metadata: { cost_center: 'c1' } }, io)).rejects.toThrow(/settings\.local\.json:1:8/);
    expect(readFileSync(join(io.cwd, '.claude', 'settings.local.json'), 'utf8')).toBe('{ "a": ');
  });
});

describe('precedence', () => {
  const written = { kind: 'user' as const, file: '/h/.claude/settings.json', env: { ANTHROPIC_BASE_URL: 'https://gw', ANTHROPIC_AUTH_TOKEN: 'ghk_x' }, model: 'claude-sonnet-5-5' };

  it('finds managed, project and environment overrides, and says which only inform', async () => {
    const io = place();
    mkdirSync(join(io.managedDir!, 'managed-settings.d'), { recursive: true });
    writeFileSync(join(io.managedDir!, 'managed-settings.json'), '{"env":{"ANTHROPIC_BASE_URL":"https://corp"}}');
    writeFileSync(join(io.managedDir!, 'managed-settings.d', '10-model.json'), '{"model":"claude-opus-5-5"}');
    mkdirSync(join(io.cwd, '.claude'));
    writeFileSync(join(io.cwd, '.claude', 'settings.json'), '{"env":{"ANTHROPIC_AUTH_TOKEN":"tok-from-project","CLAUDE_CODE_USE_BEDROCK":"1"}}');
    writeFileSync(join(io.cwd, '.claude', 'settings.local.json'), '{ // note\n}');
    const sources = await readSources(io.fs, io);
    expect(sources.map((s) => s.kind)).toEqual(['managed', 'managed', 'local', 'project']);
    const env = { ANTHROPIC_API_KEY: 'sk', ANTHROPIC_MODEL: 'claude-haiku-5-5', ANTHROPIC_BASE_URL: 'https://old' };
    const found = findOverrides(sources, env, { ...written, file: io.settings });
    const by = (key: string) => found.filter((o) => o.key === key).map((o) => o.severity);
    expect(by('env.ANTHROPIC_BASE_URL')).toEqual(['override']);
    expect(by('model')).toEqual(['override']);
    expect(by('env.ANTHROPIC_AUTH_TOKEN')).toEqual(['override']);
    expect(by('env.CLAUDE_CODE_USE_BEDROCK')).toEqual(['override']);
    expect(by('ANTHROPIC_API_KEY')).toEqual(['override']);
    expect(by('ANTHROPIC_MODEL')).toEqual(['override']);
    expect(by('ANTHROPIC_BASE_URL')).toEqual(['info']);
    expect(by('(file)')).toEqual(['info']);
    expect(found.map((o) => o.message).join()).not.toContain('tok-from-project');
    // Writing the local file instead: the committed project file no longer wins, managed still does.
    const local = findOverrides(sources, {}, { ...written, kind: 'local', file: join(io.cwd, '.claude', 'settings.local.json') });
    expect(local.filter((o) => o.severity === 'override').map((o) => o.key).sort()).toEqual(['env.ANTHROPIC_BASE_URL', 'env.CLAUDE_CODE_USE_BEDROCK', 'model']);
    expect(effectiveSettings(sources, env)).toMatchObject({ env: { ANTHROPIC_BASE_URL: { value: 'https://corp' }, ANTHROPIC_AUTH_TOKEN: { value: 'tok-from-project' } }, model: { from: 'environment (ANTHROPIC_MODEL)' } });
  });
});

describe('failures in the seeds\' words', () => {
  const cause = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });
  it.each([
    [cause('ENOTFOUND'), 'dns', /does not resolve/],
    [cause('ECONNREFUSED'), 'refused', /Connection refused/],
    [cause('CERT_HAS_EXPIRED'), 'tls', /TLS/],
    [Object.assign(new Error('t'), { name: 'TimeoutError' }), 'timeout', /did not answer in time/],
  ])('network error → %s', (e, kind, message) => {
    expect(networkProblem('https://gw.example.com', e)).toMatchObject({ kind, message: expect.stringMatching(message) });
  });

  const env = (code: string, message = 'm') => JSON.stringify({ type: 'error', error: { type: 't', message, details: { error_code: code } }, request_id: 'req_1' });
  it.each([
    [401, env('key_revoked'), /401 Unauthorized: the key was revoked/],
    [401, env('key_expired'), /401 Unauthorized: the key has expired/],
    [401, env('unknown_key'), /invalid or expired API key/],
    [403, env('admin_key_on_model_route'), /admin key/],
    [403, '<html>blocked</html>', /403 Forbidden: the key is valid but not allowed/],
    [404, env('not_found'), /wrong base URL format/],
    [500, env('internal'), /answered 500 \(request id req_1\).*API Error: 500/],
  ])('HTTP %i', (status, body, message) => {
    expect(httpProblem('https://gw.example.com', '/api/me', status, body).message).toMatch(message);
  });

  it('a 404 names a duplicated /v1', () => expect(httpProblem('https://gw.example.com/v1', '/api/me', 404, '').message).toMatch(/\/v1 is duplicated/));
});
