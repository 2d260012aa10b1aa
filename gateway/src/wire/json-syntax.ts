import { printParseErrorCode, visit } from 'jsonc-parser';

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
  UnexpectedEndOfComment: 'a comment is not closed',
  UnexpectedEndOfString: 'a string is not terminated',
  UnexpectedEndOfNumber: 'a number is cut off',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'a control character inside a string',
};

export interface JsonSyntaxError {
  what: string;
  line: number;
  column: number;
  offset: number;
}

/**
 * Syntax errors in words, with line and column. JSON.parse's own messages vary between Node
 * versions and often omit the position, so this runs (only on the failure path) to say where.
 */
export function jsonSyntaxErrors(text: string, opts: { jsonc: boolean }): JsonSyntaxError[] {
  const out: JsonSyntaxError[] = [];
  visit(
    text,
    {
      onError: (error, offset) => {
        const code = printParseErrorCode(error);
        const before = text.slice(0, offset).split('\n');
        out.push({ what: WORDS[code] ?? code, line: before.length, column: (before.at(-1)?.length ?? 0) + 1, offset });
      },
    },
    { disallowComments: !opts.jsonc, allowTrailingComma: opts.jsonc },
  );
  return out;
}
