// The practical floor: a minimal undici relay with no features at all (no auth, no parsing,
// the request body streamed straight through). Gatehouse's overhead is reported against it.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade', 'te', 'trailer', 'proxy-connection']);

function strip(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

export function startBareProxy(port: number, upstream: string) {
  const pool = new Pool(upstream, { connections: 2048, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  const server = createServer(async (req, res) => {
    try {
      const up = await pool.request({ path: req.url ?? '/', method: (req.method ?? 'GET') as 'POST', headers: strip(req.headers), body: req.method === 'GET' || req.method === 'HEAD' ? null : req });
      res.writeHead(up.statusCode, strip(up.headers));
      for await (const chunk of up.body) if (!res.write(chunk)) await once(res, 'drain');
      res.end();
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => s.on('error', () => undefined));
  return new Promise<typeof server>((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
