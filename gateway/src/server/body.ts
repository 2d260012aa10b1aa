import type { FastifyInstance } from 'fastify';
import { errors } from '../wire/errors.js';
import { jsonSyntaxErrors } from '../wire/json-syntax.js';
import { RequestBody } from '../wire/request-body.js';

function describeJsonError(text: string, e: unknown): string {
  const first = jsonSyntaxErrors(text, { jsonc: false })[0];
  if (!first) return e instanceof Error ? e.message : String(e);
  return `${first.what} at line ${first.line}, column ${first.column} (offset ${first.offset})`;
}

function position(buf: Buffer, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0 && nl < offset; nl = buf.indexOf(0x0a, nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1} (offset ${offset})`;
}

/**
 * Messages API bodies: validated and indexed on the bytes (no parse on the request path), kept
 * as received for forwarding. Scoped to the plugin that registers it.
 */
export function registerMessageBody(app: FastifyInstance, bodyLimit: number): void {
  if (app.hasContentTypeParser('application/json')) app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(errors.malformedJson('the body is empty'), undefined);
    const scanned = RequestBody.scan(buf);
    if (scanned instanceof RequestBody) return done(null, scanned);
    done(scanned.what === 'the body must be a JSON object' ? errors.bodyNotObject() : errors.malformedJson(`${scanned.what} at ${position(buf, scanned.offset)}`), undefined);
  });
}

/** The gateway's own API takes ordinary JSON, parsed in full. */
export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(errors.malformedJson('the body is empty'), undefined);
    const text = buf.toString('utf8');
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(errors.malformedJson(describeJsonError(text, e)), undefined);
    }
  });
}
