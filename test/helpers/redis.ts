// A real redis-server for tests: on 127.0.0.1, a free port, a throw-away directory, no
// persistence. `stop()` and `restart()` (same port, empty data, like a Redis that lost its memory)
// are for fault tests. Never skipped: a machine without Redis fails with how to install it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = '/usr/bin/redis-server';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and waits for it to exit; the port stays reserved for `restart`. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with no data. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** Resolves once the port answers a PING with PONG. */
async function waitForPong(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('error', () => resolve(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<TestRedis> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: these tests need a real Redis. Install it with \`apt-get install redis-server\`.`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    stderr = '';
    const c = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child = c;
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${stderr}`))));
    await Promise.race([waitForPong(port), exited]);
    // Only the race needed it.
    exited.catch(() => undefined);
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGTERM');
    });
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
