import type { FastifyInstance } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { errors } from '../wire/errors.js';

/**
 * `GET /api/me/diagnostics/stream` (a developer's key): three `event: ping` frames 200 ms apart,
 * then `event: done`. It calls no provider and touches no budget, so `gatehouse doctor` and the
 * extension can run it freely to tell whether something between the developer and the gateway
 * buffers or strips Server-Sent Events: through a clean path the first frame arrives well before
 * the last. The seeds' row: "Streaming fails or hangs: SSE not passing through".
 */

const PINGS = 3;
const INTERVAL_MS = 200;

export function meDiagnosticRoutes() {
  return async (app: FastifyInstance): Promise<void> => {
    const open = new Set<() => void>();
    // A test stream lasts 600 ms; still, never hold a shutdown for it.
    app.addHook('preClose', async () => {
      for (const end of [...open]) end();
    });

    app.get('/me/diagnostics/stream', async (req, reply) => {
      if (!req.gatehouseKey) throw errors.missingKey();
      // CORS headers set by hooks so far: writeHead after hijack would drop them. No
      // x-accel-buffering here, unlike /api/me/events: model streams do not send it either, and
      // the point is to see what a proxy does to those.
      const hooked: Record<string, string | number | string[] | undefined> = reply.getHeaders();
      const headers: OutgoingHttpHeaders = { ...hooked, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, headers);
      const started = Date.now();
      let sent = 0;
      const frame = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ ...data, elapsed_ms: Date.now() - started })}\n\n`);
      const timer = setInterval(() => {
        if (sent < PINGS) {
          frame('ping', { seq: ++sent });
          return;
        }
        frame('done', { pings: PINGS, interval_ms: INTERVAL_MS });
        end();
      }, INTERVAL_MS);
      timer.unref();
      const end = () => {
        clearInterval(timer);
        open.delete(end);
        res.end();
      };
      open.add(end);
      res.on('close', () => {
        clearInterval(timer);
        open.delete(end);
      });
      frame('ping', { seq: ++sent });
    });
  };
}
