// The loopback plumbing the Anthropic, Bedrock and Vertex emulators share: a node:http server on
// 127.0.0.1, a FIFO of scripts, recorded requests with abort detection, and the few response
// primitives (whole body, streamed chunk, self-inflicted reset) whose bookkeeping must agree
// across emulators so tests can read `responseBytes`, `aborted` and `done` the same way everywhere.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What every emulator records about a request; each adds its own decoded fields on top. */
export interface RecordedBase {
  method: string;
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: unknown;
  /** The client closed the connection before the response finished (never set by a `reset` script). */
  aborted: boolean;
  /** Exactly the body bytes written so far; grows while a stream is in flight. */
  responseBytes: Buffer;
  /** Settles when the response finished or the connection closed. */
  done: Promise<void>;
}

/** One request being answered. */
export interface Exchange<Rec extends RecordedBase> {
  res: ServerResponse;
  rec: Rec;
  requestId: string;
  /** `performance.now()` when the request arrived, before its body was read, for latency figures. */
  started: number;
  /** Set before the emulator destroys the socket itself, so that is not mistaken for a client abort. */
  selfReset: boolean;
}

export interface LoopbackConfig {
  /** The emulator's class name, so a timed-out wait says which emulator it was. */
  name: string;
  /** Content type of JSON answers: the real services disagree on the charset parameter. */
  jsonType: string;
  /** A fresh id in the service's own format, for its request-id header and error envelopes. */
  requestId: () => string;
}

const noop = (): void => undefined;
const RESET_GRACE_MS = 25;

export function firstHeader(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves after `ms` or as soon as the response closes, so a departed client never leaves a timer behind. */
export function pause(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    function done(): void {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
  });
}

/** A server listening on an ephemeral loopback port, so parallel test files never collide. */
export async function listenLoopback(): Promise<Server> {
  const server = createServer();
  // Malformed requests (a gateway bug under test) must not crash the test process.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}

/** `undefined` when the client left mid-upload, as there is then nobody to answer. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return undefined;
  }
  return Buffer.concat(chunks);
}

/** The parsed body, or `undefined` when empty or not JSON: each emulator rejects that in its own service's words. */
function parseJson(body: Buffer): unknown {
  try {
    return body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Base of the three emulators: owns the server, the script queue and the recorded requests, and
 * hands each request to `serve` once its body is in and it is recorded. Recording comes first so
 * tests see requests the emulator rejects, and a throw in `serve` becomes the service's own 500.
 */
export abstract class LoopbackEmulator<Rec extends RecordedBase, Script> {
  readonly url: string;
  readonly requests: Rec[] = [];
  readonly #server: Server;
  readonly #config: LoopbackConfig;
  readonly #queue: Script[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #waiters = new Set<() => void>();

  protected constructor(server: Server, config: LoopbackConfig) {
    this.#server = server;
    this.#config = config;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (s: Socket) => {
      // A client that vanishes (or a reset script) errors the socket; that is a scenario, not a failure.
      s.on('error', noop);
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res));
  }

  enqueue(...scripts: Script[]): void {
    this.#queue.push(...scripts);
  }

  reset(): void {
    this.#queue.length = 0;
    this.requests.length = 0;
  }

  async waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    if (this.requests.length >= n) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.requests.length < n) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${this.#config.name}: waited ${timeoutMs} ms for ${n} requests, saw ${this.requests.length}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Destroys open connections first: a stalled stream would otherwise keep `server.close` waiting forever. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Adds the emulator's own fields (route parts, credential seen, …) to what every request records. */
  protected abstract record(base: RecordedBase, req: IncomingMessage): Rec;
  /** Answers a recorded request. */
  protected abstract serve(ex: Exchange<Rec>): Promise<void>;
  /** The service's 500 for a request `serve` threw on before sending headers. */
  protected abstract internalError(ex: Exchange<Rec>): void;

  /** Answers a request that is not recorded (Vertex's token endpoint); `true` when it did. */
  protected serveUnrecorded(_method: string, _path: string, _body: Buffer, _res: ServerResponse): boolean {
    return false;
  }

  /** Headers every answer carries, in front of `extra`; the default adds none. */
  protected responseHeaders(_ex: Exchange<Rec>, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
    return extra;
  }

  protected nextScript(): Script | undefined {
    return this.#queue.shift();
  }

  /** A whole answer: an object as JSON, a string verbatim. */
  protected sendBody(ex: Exchange<Rec>, status: number, contentType: string, payload: unknown, extra: OutgoingHttpHeaders = {}): void {
    const buf = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
    ex.res.writeHead(status, this.responseHeaders(ex, { 'content-type': contentType, 'content-length': buf.length, ...extra }));
    ex.rec.responseBytes = buf;
    ex.res.end(buf);
  }

  /** Non-streaming 200 JSON; `reset`/`stall` cut it the way a dying upstream would: mid-body or before any body. */
  protected answerPlain(ex: Exchange<Rec>, kind: string, payload: unknown, extra: OutgoingHttpHeaders = {}): void {
    const { jsonType } = this.#config;
    if (kind !== 'reset' && kind !== 'stall') return this.sendBody(ex, 200, jsonType, payload, extra);
    const buf = Buffer.from(JSON.stringify(payload), 'utf8');
    ex.res.writeHead(200, this.responseHeaders(ex, { 'content-type': jsonType, 'content-length': buf.length, ...extra }));
    ex.res.flushHeaders();
    if (kind === 'stall') return;
    const half = buf.subarray(0, Math.floor(buf.length / 2));
    ex.rec.responseBytes = Buffer.from(half);
    ex.res.write(half, () => this.destroy(ex));
  }

  /** Writes one piece of a stream, waiting out backpressure; `false` once the client is gone. */
  protected async write(ex: Exchange<Rec>, chunk: string | Buffer): Promise<boolean> {
    const { res } = ex;
    if (res.destroyed) return false;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    ex.rec.responseBytes = Buffer.concat([ex.rec.responseBytes, buf]);
    if (!res.write(buf)) {
      await new Promise<void>((resolve) => {
        const go = (): void => { res.off('drain', go); res.off('close', go); resolve(); };
        res.once('drain', go);
        res.once('close', go);
      });
    }
    return !res.destroyed;
  }

  protected destroy(ex: Exchange<Rec>): void {
    ex.selfReset = true;
    ex.res.destroy();
  }

  /**
   * Ends a stream the way a `reset` or `stall` script asks, once its events are out: `true` when it
   * did, so the caller sends nothing more. A stall holds the connection open; `done` settles when
   * the client gives up.
   */
  protected async cutStream(ex: Exchange<Rec>, kind: string): Promise<boolean> {
    if (kind === 'stall') return true;
    if (kind !== 'reset') return false;
    // A closed connection errors the client's body stream, and WHATWG streams drop chunks not yet read when
    // that happens; a short gap lets the events already sent reach the consumer, as when a real upstream dies.
    await pause(RESET_GRACE_MS, ex.res);
    this.destroy(ex);
    return true;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', noop);
    res.on('error', noop);
    const started = performance.now();
    const body = await readBody(req);
    if (body === undefined) return;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (this.serveUnrecorded(method, path, body, res)) return;
    let settle = noop;
    const rec = this.record({
      method, url, path, headers: req.headers, body, json: parseJson(body), aborted: false, responseBytes: Buffer.alloc(0),
      done: new Promise<void>((resolve) => { settle = resolve; }),
    }, req);
    const ex: Exchange<Rec> = { res, rec, requestId: this.#config.requestId(), started, selfReset: false };
    const onClose = (): void => {
      if (!res.writableFinished && !ex.selfReset) rec.aborted = true;
      settle();
    };
    // If the client left while its body was being read, `close` has already fired and would never call onClose.
    if (req.socket.destroyed) onClose();
    else res.once('close', onClose);
    this.requests.push(rec);
    for (const w of [...this.#waiters]) w();
    try {
      await this.serve(ex);
    } catch {
      if (!res.headersSent) this.internalError(ex);
      else this.destroy(ex);
    }
  }
}
