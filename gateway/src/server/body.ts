import type { FastifyInstance } from 'fastify';
import { printParseErrorCode, visit } from 'jsonc-parser';
import { errors } from '../wire/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes as received: forwarded as they are, never re-serialised. */
    rawBody: Buffer | undefined;
  }
}

const WORDS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'a property name in double quotes is expected',
  ValueExpected: 'a value is expected',
  ColonExpected: "':' is expected",
  CommaExpected: "',' is expected",
  CloseBraceExpected: "'}' is expected",
  CloseBracketExpected: "']' is expected",
  EndOfFileExpected: 'unexpected content after the JSON value',
  InvalidCommentToken: 'comments are not allowed',
  UnexpectedEndOfComment: 'comments are not allowed',
  UnexpectedEndOfString: 'a string is not terminated',
  UnexpectedEndOfNumber: 'a number is cut off',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'a control character inside a string',
};

/**
 * JSON.parse's messages vary by Node version and often omit the position; a strict second pass
 * with jsonc-parser (only on the failure path) names what is wrong and where.
 */
function describeJsonError(text: string, e: unknown): string {
  let first: { code: string; offset: number } | undefined;
  visit(
    text,
    {
      onError: (error, offset) => {
        const code = printParseErrorCode(error);
        first ??= { code: WORDS[code] ?? code, offset };
      },
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  if (!first) return e instanceof Error ? e.message : String(e);
  const before = text.slice(0, first.offset).split('\n');
  return `${first.code} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1} (offset ${first.offset})`;
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
