import type { LoadedConfig } from '../config/load.js';
import type { StoreConfig } from '../config/schema.js';
import { resolveSecret } from '../config/secrets.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/**
 * The Store a config asks for: `store.kind` sqlite (the default, a file in the data directory) or
 * postgres. A config without a `store` section uses PostgreSQL when GATEHOUSE_DATABASE_URL is
 * set, so a container can be pointed at a database without editing the file.
 *
 * Returns at once; PostgresStore connects and migrates in the background and its first call
 * reports a database it cannot reach (`PostgresStore.ready()` to wait for it explicitly).
 */
export const DATABASE_URL_ENV = 'GATEHOUSE_DATABASE_URL';

export function storeConfig(loaded: LoadedConfig, env: NodeJS.ProcessEnv): StoreConfig {
  if (loaded.config.store) return loaded.config.store;
  const fromEnv = env[DATABASE_URL_ENV];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? { kind: 'postgres', url: `env:${DATABASE_URL_ENV}`, pool_size: 10 } : { kind: 'sqlite' };
}

export function openStore(loaded: LoadedConfig, dataDir: string, env: NodeJS.ProcessEnv): Store {
  const cfg = storeConfig(loaded, env);
  if (cfg.kind === 'sqlite') return new SqliteStore(dataDir);
  const url = resolveSecret(cfg.url, loaded.dir, env);
  // The reference is named, never its value.
  if (!url.ok) throw new Error(`store.url (${cfg.url}) cannot be resolved: ${url.missing}`);
  return new PostgresStore({ url: url.value, pool_size: cfg.pool_size, statement_timeout_ms: cfg.statement_timeout_ms });
}
