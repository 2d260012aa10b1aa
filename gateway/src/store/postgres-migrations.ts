import type pg from 'pg';
import { inTransaction } from './postgres-pool.js';

/**
 * The PostgreSQL schema, as ordered migrations recorded in `schema_migrations`. The tables mirror
 * the SQLite ones so both stores return the same rows:
 * - Every text column is `COLLATE "C"`: byte order, as SQLite's BINARY compares, whatever the
 *   database's locale (en_US would order "a-b" and ISO times differently).
 * - Times stay ISO text (`toISOString()`, fixed width): they come back byte for byte as written,
 *   compare as they do in SQLite, and `substr` makes hour and day buckets.
 * - A log row is kept as its JSON text (key order preserved), with the columns analytics sums
 *   (bigint tokens, double precision cost and latencies) and the metadata as jsonb under a GIN
 *   index, so any combination of metadata fields is one indexed containment test.
 * - Bodies' blocks list the blocks they reference (`refs`), so reading a request back and
 *   sweeping unreachable blocks are recursive queries, not one round trip per block.
 */

const T = 'text COLLATE "C"';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
     id ${T} PRIMARY KEY,
     name ${T} NOT NULL,
     workspace ${T} NOT NULL,
     provider ${T},
     config ${T},
     metadata ${T} NOT NULL DEFAULT '{}',
     allow_inline_config boolean NOT NULL DEFAULT false,
     allowed_models ${T},
     required_metadata ${T} NOT NULL DEFAULT '[]',
     rpm integer,
     max_concurrent integer,
     tpm bigint,
     budget_usd double precision,
     budget_tokens bigint,
     budget_period ${T} NOT NULL DEFAULT 'month',
     created_at ${T} NOT NULL,
     expires_at ${T},
     revoked_at ${T},
     rotated_at ${T}
   );
   CREATE INDEX keys_workspace ON keys (workspace, created_at);
   CREATE TABLE key_secrets (
     seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
     hash ${T} PRIMARY KEY,
     key_id ${T} NOT NULL REFERENCES keys (id),
     prefix ${T} NOT NULL,
     created_at ${T} NOT NULL,
     valid_until ${T}
   );
   CREATE INDEX key_secrets_key ON key_secrets (key_id, created_at DESC, seq DESC);
   CREATE TABLE configs (id ${T} PRIMARY KEY, body ${T} NOT NULL, workspace ${T}, updated_at ${T} NOT NULL);
   CREATE TABLE spend (scope ${T} NOT NULL, unit ${T} NOT NULL, period ${T} NOT NULL, amount double precision NOT NULL, updated_at ${T} NOT NULL, PRIMARY KEY (scope, unit, period));
   CREATE TABLE budget_alerts (scope ${T} NOT NULL, unit ${T} NOT NULL, period ${T} NOT NULL, threshold double precision NOT NULL, at ${T} NOT NULL, PRIMARY KEY (scope, unit, period, threshold));
   CREATE TABLE logs (
     seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     id ${T} NOT NULL UNIQUE,
     created_at ${T} NOT NULL,
     trace_id ${T}, session_id ${T}, workspace ${T}, key_id ${T}, model ${T}, provider ${T},
     status integer NOT NULL,
     cost_usd double precision,
     input_tokens bigint, output_tokens bigint, cache_read_input_tokens bigint, cache_creation_input_tokens bigint,
     latency_ms double precision, ttft_ms double precision,
     metadata jsonb NOT NULL DEFAULT '{}',
     row ${T} NOT NULL
   );
   CREATE INDEX logs_created ON logs (created_at);
   CREATE INDEX logs_key ON logs (key_id, seq);
   CREATE INDEX logs_workspace ON logs (workspace, seq);
   CREATE INDEX logs_trace ON logs (trace_id);
   CREATE INDEX logs_session ON logs (session_id);
   CREATE INDEX logs_metadata ON logs USING gin (metadata jsonb_path_ops);
   CREATE TABLE blobs (hash ${T} PRIMARY KEY, data bytea NOT NULL, refs text[] NOT NULL DEFAULT '{}');
   CREATE TABLE log_bodies (log_id ${T} PRIMARY KEY, created_at ${T} NOT NULL, manifest bytea, response ${T}, summary ${T} NOT NULL, refs text[] NOT NULL DEFAULT '{}');
   CREATE INDEX log_bodies_created ON log_bodies (created_at);
   CREATE TABLE admin_keys (seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE, id ${T} PRIMARY KEY, name ${T} NOT NULL, role ${T} NOT NULL, hash ${T} NOT NULL UNIQUE, prefix ${T} NOT NULL, created_at ${T} NOT NULL, revoked_at ${T});
   CREATE TABLE providers (id ${T} PRIMARY KEY, kind ${T} NOT NULL, settings ${T} NOT NULL, secret bytea NOT NULL, updated_at ${T} NOT NULL);
   CREATE TABLE workspaces (id ${T} PRIMARY KEY, body ${T} NOT NULL, updated_at ${T} NOT NULL);
   CREATE TABLE guardrails (id ${T} PRIMARY KEY, body ${T} NOT NULL, updated_at ${T} NOT NULL);`,
];

/** Advisory lock ids (any fixed bigints, the same in every instance). */
export const LOCKS = { migrate: 0x4761_7465_0001, prune: 0x4761_7465_0002 } as const;

/**
 * Brings the schema up to date. Instances starting together serialise on the advisory lock, so
 * exactly one applies each migration and the others then find nothing to do.
 */
export async function migrate(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.migrate]);
    // Inside the lock: two concurrent CREATE TABLE IF NOT EXISTS can still collide.
    await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at ${T} NOT NULL)`);
    const { rows } = await c.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`the database schema is at version ${current}, newer than this gateway knows (${MIGRATIONS.length}); run the newer gateway version or a database of its own`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await c.query(MIGRATIONS[v]!);
      await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v + 1, new Date().toISOString()]);
    }
  });
}
