import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { applyEdits, createScanner, modify, parse, printParseErrorCode, type FormattingOptions, type ParseError } from 'jsonc-parser';
import { errnoOf, isMissing, type CoreFs } from './io.js';

/**
 * Claude Code settings files, edited in place with jsonc-parser: the keys connect owns change,
 * everything else (other keys, their order, indentation, line endings) stays as the developer
 * left it. One exception: Claude Code 2.1.330 refuses a file with comments or trailing commas
 * ("Invalid or malformed JSON") and then ignores all of it, so those are removed; the backup
 * keeps them and disconnect puts them back.
 */

export type SettingPath = readonly string[];

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read; its values are fixed.
const TOKEN = { CloseBrace: 2, CloseBracket: 4, Comma: 5, LineComment: 12, BlockComment: 13, LineBreak: 14, Trivia: 15, EOF: 17 } as const;

/** `value: undefined` removes the key. */
export interface SettingEdit {
  path: SettingPath;
  value: unknown;
}

export type Settings = Record<string, unknown>;

export class SettingsError extends Error {
  override name = 'SettingsError';
  constructor(
    readonly file: string,
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split(/\r?\n/);
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** The settings object; throws SettingsError (with line:column) when even a lenient parse fails. */
export function parseSettings(file: string, text: string | null): Settings {
  if (text === null || !text.trim()) return {};
  const errors: ParseError[] = [];
  const data: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const fix = `Fix ${file} (Claude Code cannot load it either) or move it aside, then run this again. Nothing was changed.`;
  if (errors.length) {
    const e = errors[0]!;
    throw new SettingsError(file, `${file}:${lineCol(text, e.offset)}: the file is not valid JSON (${printParseErrorCode(e.error)}).`, fix);
  }
  if (!isObject(data)) throw new SettingsError(file, `${file} must hold a JSON object ({ ... }), not ${Array.isArray(data) ? 'an array' : JSON.stringify(data)}.`, fix);
  if (data.env !== undefined && !isObject(data.env)) throw new SettingsError(file, `${file}: "env" must be an object of strings.`, fix);
  return data;
}

export function valueAt(data: Settings, path: SettingPath): unknown {
  let v: unknown = data;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  return v;
}

/** Strict JSON from JSONC: comments (with the line, when alone on it) and trailing commas removed; nothing else moves. */
export function toStrictJson(text: string): { text: string; comments: number; commas: number } {
  const cuts: Array<[number, number]> = [];
  const scanner = createScanner(text, false);
  let comments = 0;
  let commas = 0;
  let pendingComma = -1;
  for (let k: number = scanner.scan(); k !== TOKEN.EOF; k = scanner.scan()) {
    const start = scanner.getTokenOffset();
    const end = start + scanner.getTokenLength();
    if (k === TOKEN.LineComment || k === TOKEN.BlockComment) {
      comments++;
      let from = start;
      while (from > 0 && (text[from - 1] === ' ' || text[from - 1] === '\t')) from--;
      let to = end;
      while (to < text.length && (text[to] === ' ' || text[to] === '\t')) to++;
      const aloneOnLine = (from === 0 || text[from - 1] === '\n') && (to === text.length || text[to] === '\n' || text[to] === '\r');
      if (aloneOnLine) to = text.startsWith('\r\n', to) ? to + 2 : Math.min(to + 1, text.length);
      else to = end;
      cuts.push([from, to]);
    } else if (k === TOKEN.Trivia || k === TOKEN.LineBreak) {
      continue;
    } else {
      if (pendingComma >= 0 && (k === TOKEN.CloseBrace || k === TOKEN.CloseBracket)) {
        cuts.push([pendingComma, pendingComma + 1]);
        commas++;
      }
      pendingComma = k === TOKEN.Comma ? start : -1;
    }
  }
  cuts.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [from, to] of cuts) {
    if (from < at) continue;
    out += text.slice(at, from);
    at = to;
  }
  return { text: out + text.slice(at), comments, commas };
}

/** Indentation and line ending of the file as written, so inserted keys look like their neighbours. */
export function detectFormatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  return indent.startsWith('\t') ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent.length, eol };
}

/**
 * The new text of a settings file after `edits`. A missing or empty file starts as `{}`; the
 * result always parses as strict JSON. `notes` says what was changed beyond the edits.
 */
export function editSettings(file: string, text: string | null, edits: readonly SettingEdit[]): { text: string; notes: string[] } {
  parseSettings(file, text);
  const notes: string[] = [];
  let out = text !== null && text.trim() ? text : '{}\n';
  const strict = toStrictJson(out);
  if (strict.comments || strict.commas) {
    out = strict.text;
    const what = [strict.comments && `${strict.comments} comment${strict.comments > 1 ? 's' : ''}`, strict.commas && `${strict.commas} trailing comma${strict.commas > 1 ? 's' : ''}`].filter(Boolean).join(' and ');
    notes.push(`Removed ${what} from ${file}: Claude Code refuses a settings file that has them and then ignores all of it. The backup keeps them, and disconnect restores them.`);
  }
  const formattingOptions = detectFormatting(out);
  for (const e of edits) out = applyEdits(out, modify(out, [...e.path], e.value, { formattingOptions }));
  return { text: out, notes };
}

function ioError(file: string, action: string, e: unknown): SettingsError {
  const code = errnoOf(e);
  const why =
    code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'the file system is read-only' : code === 'ENOSPC' ? 'the disk is full' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
  return new SettingsError(file, `Cannot ${action} ${file}: ${why}${code ? ` (${code})` : ''}.`, `Check the owner and permissions of ${dirname(file)} and ${file}; nothing was changed.`);
}

/** The text of a settings file and its mode, or nulls when it does not exist. */
export async function readSettingsFile(fs: CoreFs, file: string): Promise<{ text: string | null; mode: number | null }> {
  try {
    const text = await fs.readFile(file);
    return { text, mode: (await fs.stat(file)).mode & 0o777 };
  } catch (e) {
    if (isMissing(e)) return { text: null, mode: null };
    throw ioError(file, 'read', e);
  }
}

/**
 * Replaces the file in one step (a temporary file in the same directory, then rename), so that a
 * crash or a full disk never leaves Claude Code a half-written file. A symlinked settings file
 * (dotfile managers) is written through: its target changes, the link stays.
 */
export async function writeFileAtomic(fs: CoreFs, file: string, text: string, mode = 0o600): Promise<void> {
  let target = file;
  try {
    target = await fs.realpath(file);
  } catch (e) {
    if (!isMissing(e)) throw ioError(file, 'resolve', e);
  }
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.mkdir(dirname(target), 0o700);
    await fs.writeFile(tmp, text, mode);
    // The mode given at creation is reduced by the umask; the file holds a key, so set it exactly.
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw ioError(file, 'write', e);
  }
}
