import type { FastifyInstance } from 'fastify';
import { errors } from '../wire/errors.js';
import { jsonSyntaxErrors } from '../wire/json-syntax.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes as received: forwarded as they are, never re-serialised. */
    rawBody: Buffer | undefined;
  }
}

function describeJsonError(text: string, e: unknown): string {
  const first = jsonSyntaxErrors(text, { jsonc: false })[0];
  if (!first) return e instanceof Error ? e.message : String(e);
  return `${first.what} at line ${first.line}, column ${first.column} (offset ${first.offset})`;
}

/** JSON bodies are parsed once for governance and kept as bytes for forwarding. */
export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.decorateRequest('rawBody', undefined);
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    const buf = body as Buffer;
    req.rawBody = buf;
    if (buf.length === 0) return done(errors.malformedJson('the body is empty'), undefined);
    const text = buf.toString('utf8');
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(errors.malformedJson(describeJsonError(text, e)), undefined);
    }
  });
}
