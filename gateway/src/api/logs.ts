import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../server/runtime.js';
import type { LogQuery } from '../store/log-query.js';
import { errors } from '../wire/errors.js';

const FIELDS = ['key_id', 'workspace', 'model', 'provider', 'trace_id', 'session_id', 'since', 'until', 'cursor'] as const;
const MAX_LIMIT = 500;

function isoOr400(name: string, v: string): string {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw errors.invalidParam(`${name}: "${v}" is not a time; use ISO 8601, e.g. 2026-11-22T00:00:00Z.`);
  return new Date(t).toISOString();
}

/**
 * `?metadata.team=support&metadata.env=prod&model=...&since=...`: any combination, all must match.
 * Unknown parameters are refused by name, so a typo does not silently widen a query.
 */
export function parseLogQuery(q: Record<string, string | string[] | undefined>): LogQuery {
  const out: LogQuery = { metadata: {}, limit: 50 };
  for (const [name, raw] of Object.entries(q)) {
    const v = Array.isArray(raw) ? raw.at(-1) : raw;
    if (v === undefined) continue;
    if (name.startsWith('metadata.') && name.length > 'metadata.'.length) out.metadata[name.slice('metadata.'.length)] = v;
    else if (name === 'limit') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw errors.invalidParam(`limit: a whole number from 1 to ${MAX_LIMIT}; got "${v}".`);
      out.limit = n;
    } else if (name === 'status') {
      const n = Number(v);
      if (!Number.isInteger(n)) throw errors.invalidParam(`status: an HTTP status such as 429; got "${v}".`);
      out.status = n;
    } else if (name === 'since' || name === 'until') out[name] = isoOr400(name, v);
    else if ((FIELDS as readonly string[]).includes(name)) out[name as (typeof FIELDS)[number]] = v;
    else throw errors.invalidParam(`Unknown filter "${name}". Filter on metadata.<field>, ${FIELDS.join(', ')}, status or limit.`);
  }
  return out;
}

export function adminLogRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: Record<string, string> }>('/logs', async (req) => {
      const { rows, next_cursor } = await rt.store.queryLogs(parseLogQuery(req.query));
      return { data: rows, next_cursor };
    });
    // What the log kept of the bodies: a summary, or (policy "full") the request as forwarded and the response as relayed.
    app.get<{ Params: { id: string } }>('/logs/:id/bodies', async (req) => {
      const bodies = await rt.store.getBodies(req.params.id);
      if (!bodies) throw errors.adminNotFound(`Bodies of log ${req.params.id} (none are kept under the "none" policy)`);
      return bodies;
    });
    app.get<{ Params: { id: string } }>('/logs/:id', async (req) => {
      const row = await rt.store.getLog(req.params.id);
      if (!row) throw errors.adminNotFound(`Log ${req.params.id}`);
      return row;
    });
  };
}

/** A developer's own rows: the same filters, always narrowed to the key that asks. */
export function meLogRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: Record<string, string> }>('/me/logs', async (req) => {
      const key = req.gatehouseKey;
      if (!key) throw errors.missingKey();
      const q = parseLogQuery(req.query);
      if (q.key_id !== undefined && q.key_id !== key.id) throw errors.invalidParam('key_id: a key sees only its own logs; leave key_id out.');
      const { rows, next_cursor } = await rt.store.queryLogs({ ...q, key_id: key.id, workspace: undefined });
      return { data: rows, next_cursor };
    });
    // The admin route's answer for the key's own rows. Another key's row gets the same 404 as a
    // row without bodies, so a key cannot learn which request ids exist.
    app.get<{ Params: { id: string } }>('/me/logs/:id/bodies', async (req) => {
      const key = req.gatehouseKey;
      if (!key) throw errors.missingKey();
      const row = await rt.store.getLog(req.params.id);
      const bodies = row?.key_id === key.id ? await rt.store.getBodies(req.params.id) : undefined;
      if (!bodies) throw errors.adminNotFound(`Bodies of log ${req.params.id} (none are kept under the "none" policy)`);
      return bodies;
    });
  };
}
