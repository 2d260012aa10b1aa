import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { buildApp } from '../server/app.js';
import { closeRuntime, createRuntime, type Runtime } from '../server/runtime.js';
import { VERSION } from '../server/version.js';

function banner(rt: Runtime, url: string, dataDir: string, configFile: string): string {
  const lines = [`Gatehouse ${VERSION} listening on ${url}`, `  config: ${configFile}`, `  data:   ${dataDir} (SQLite)`, '', 'Providers:'];
  if (rt.providers.size === 0) lines.push('  (none configured: add one under "providers" in the config file, or PUT /api/admin/providers/ID)');
  for (const p of rt.providers.values()) {
    lines.push(`  @${p.slug.padEnd(14)} ${p.kind.padEnd(10)} ${p.origin}  ${p.unavailable ? `NOT READY: ${p.unavailable}` : `ready (${p.credentials})`}`);
  }
  const adminHint = rt.adminKeySource.startsWith('file:')
    ? `generated into ${rt.adminKeySource.slice(5)} (set GATEHOUSE_ADMIN_KEY to choose your own)`
    : `from ${rt.adminKeySource}`;
  // The hint must work when pasted: name the URL and data directory when they are not the defaults.
  const env = url === 'http://127.0.0.1:8787' ? '' : `GATEHOUSE_URL=${url} `;
  const data = dataDir === resolve('.gatehouse') ? '' : ` --data ${dataDir}`;
  lines.push(
    '',
    `Admin key: ${adminHint}`,
    'Create a first key:',
    `  ${env}npx gatehouse keys create --name my-laptop${rt.adminKeySource.startsWith('file:') ? data : ''}`,
    'Then point Claude Code at the gateway:',
    `  ANTHROPIC_BASE_URL=${url} ANTHROPIC_AUTH_TOKEN=<the key> claude`,
    '',
  );
  return lines.join('\n');
}

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      'log-level': { type: 'string' },
    },
    strict: true,
  });
  const configPath = values.config ?? (existsSync('gatehouse.jsonc') ? 'gatehouse.jsonc' : undefined);
  if (configPath === undefined) {
    console.error('gatehouse: no config file. Pass --config FILE (gatehouse.example.jsonc is a good start).');
    return 2;
  }
  let loaded;
  try {
    loaded = loadConfigFile(configPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`gatehouse: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const dataDir = resolve(values.data ?? process.env.GATEHOUSE_DATA ?? '.gatehouse');
  const host = values.host ?? loaded.config.server.host;
  const port = values.port !== undefined ? Number(values.port) : loaded.config.server.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`gatehouse: --port must be a number from 0 to 65535; got "${values.port}".`);
    return 2;
  }

  const rt = createRuntime(loaded, { dataDir });
  // A data key that does not open the stored provider credentials stops the start: close first.
  const { app, shutdown } = await buildApp(rt, { logLevel: values['log-level'] ?? process.env.GATEHOUSE_LOG_LEVEL ?? 'warn' }).catch(async (e: unknown) => {
    await closeRuntime(rt);
    throw e;
  });
  await app.listen({ host, port });
  const addr = app.server.address();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${typeof addr === 'object' && addr ? addr.port : port}`;
  console.log(banner(rt, url, dataDir, loaded.file));

  // First signal: stop taking requests and let streams finish (up to shutdown_grace_ms).
  // Second signal: stop now.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.error(`gatehouse: ${signal} again, closing all connections now.`);
      app.server.closeAllConnections();
      return;
    }
    stopping = true;
    console.error(`gatehouse: ${signal}, draining in-flight requests (up to ${rt.config.server.shutdown_grace_ms / 1000} s)...`);
    await shutdown(rt.config.server.shutdown_grace_ms);
    await closeRuntime(rt);
    console.error('gatehouse: stopped.');
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return 0;
}
