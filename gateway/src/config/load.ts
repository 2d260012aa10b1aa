import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { jsonSyntaxErrors } from '../wire/json-syntax.js';
import { ConfigSchema, type GatehouseConfig } from './schema.js';

/** Thrown when the config file cannot be used; `problems` has one line per issue, each with its path. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  readonly file: string;
  readonly dir: string;
  readonly config: Readonly<GatehouseConfig>;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)), '') || '(root)';
}

/** Validates config text once, reporting every problem, and returns a deep-frozen result. */
export function parseConfigText(text: string, file: string): Readonly<GatehouseConfig> {
  const parseErrors: ParseError[] = [];
  const raw: unknown = parseJsonc(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length > 0) {
    throw new ConfigError(
      file,
      [...new Set(jsonSyntaxErrors(text, { jsonc: true }).map((e) => `line ${e.line}, column ${e.column}: ${e.what}`))],
    );
  }
  const result = ConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.flatMap((i) =>
        // Name each unknown key by its own path, so a typo is found where it is.
        i.code === 'unrecognized_keys' ? i.keys.map((k) => `${pathOf([...i.path, k])}: unknown key (check the spelling)`) : [`${pathOf(i.path)}: ${i.message}`],
      ),
    );
  }
  return deepFreeze(result.data);
}

export function loadConfigFile(path: string): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(file, [`cannot read the file (${code}); pass the right path with --config`]);
  }
  return { file, dir: dirname(file), config: parseConfigText(text, file) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
