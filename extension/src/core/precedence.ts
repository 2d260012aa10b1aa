import { join } from 'node:path';
import { claudeDir, type CoreFs, type Place } from './io.js';
import { parseSettings, readSettingsFile, valueAt, type Settings } from './settings.js';

/**
 * What could take precedence over the settings connect writes. Claude Code's order, highest
 * first (docs/settings.md, reference/protocols.md D1): managed settings, CLI flags,
 * `.claude/settings.local.json`, `.claude/settings.json`, `~/.claude/settings.json`.
 * Checked against Claude Code 2.1.330: an `env` value in any settings file beats a shell export of
 * the same variable, but a shell ANTHROPIC_MODEL beats the `model` key, and a shell
 * ANTHROPIC_API_KEY is sent as `x-api-key` next to the token (which the gateway reads first).
 */

export type SourceKind = 'managed' | 'local' | 'project' | 'user';
const RANK: Record<SourceKind, number> = { managed: 0, local: 1, project: 2, user: 3 };

export interface SettingsSource {
  kind: SourceKind;
  file: string;
  /** Null when the file exists but Claude Code cannot load it (`error` says why). */
  data: Settings | null;
  error?: string;
}

export interface Override {
  /** `override`: Claude Code will not use what was written. `info`: worth knowing, no effect on Claude Code. */
  severity: 'override' | 'info';
  key: string;
  by: string;
  message: string;
  fix: string;
}

/** Where managed settings files live (the MDM and registry tiers are not files and are not read). */
export function managedSettingsDir(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return '/Library/Application Support/ClaudeCode';
  if (platform === 'win32') return 'C:\\Program Files\\ClaudeCode';
  return '/etc/claude-code';
}

export function settingsPaths(p: Place): Record<Exclude<SourceKind, 'managed'>, string> & { managedDir: string } {
  return {
    managedDir: p.managedDir ?? managedSettingsDir(p.platform),
    local: join(p.cwd, '.claude', 'settings.local.json'),
    project: join(p.cwd, '.claude', 'settings.json'),
    user: join(claudeDir(p), 'settings.json'),
  };
}

async function source(fs: CoreFs, kind: SourceKind, file: string): Promise<SettingsSource | null> {
  try {
    const { text } = await readSettingsFile(fs, file);
    if (text === null) return null;
    // Strict, as Claude Code reads it: a comment makes it skip the whole file.
    try {
      JSON.parse(text);
    } catch {
      parseSettings(file, text);
      return { kind, file, data: null, error: `${file} has comments or trailing commas, so Claude Code ignores the whole file` };
    }
    return { kind, file, data: parseSettings(file, text) };
  } catch (e) {
    return { kind, file, data: null, error: (e as Error).message };
  }
}

/** Every settings file that exists, highest precedence first. */
export async function readSources(fs: CoreFs, p: Place): Promise<SettingsSource[]> {
  const paths = settingsPaths(p);
  let dropIns: string[] = [];
  try {
    dropIns = (await fs.readdir(join(paths.managedDir, 'managed-settings.d'))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    // No drop-in directory: the usual case.
  }
  // Drop-ins are merged in alphabetical order over managed-settings.json, so the last one wins.
  const managed = [join(paths.managedDir, 'managed-settings.json'), ...dropIns.map((n) => join(paths.managedDir, 'managed-settings.d', n))].reverse();
  const all = await Promise.all([
    ...managed.map((f) => source(fs, 'managed', f)),
    source(fs, 'local', paths.local),
    source(fs, 'project', paths.project),
    source(fs, 'user', paths.user),
  ]);
  return all.filter((s): s is SettingsSource => s !== null);
}

const PROVIDER_SWITCHES = ['CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX', 'CLAUDE_CODE_USE_FOUNDRY', 'CLAUDE_CODE_USE_MANTLE'];
const truthy = (v: unknown): boolean => typeof v === 'string' && !['', '0', 'false', 'no', 'off'].includes(v.trim().toLowerCase());
const envOf = (s: Settings | null): Record<string, unknown> => (s && typeof s.env === 'object' && s.env !== null ? (s.env as Record<string, unknown>) : {});

export interface Written {
  kind: Exclude<SourceKind, 'managed'>;
  file: string;
  /** The env values connect wrote (name → value). */
  env: Readonly<Record<string, string>>;
  model?: string;
  /** The file's whole content after the write, to check its other keys too. */
  data?: Settings;
}

/** Everything that would stop Claude Code from using `written`, most serious first. */
export function findOverrides(sources: readonly SettingsSource[], env: Readonly<Record<string, string | undefined>>, written: Written): Override[] {
  const out: Override[] = [];
  // Secrets are named, never printed.
  const shown = (name: string, v: unknown) => (/TOKEN|KEY/.test(name) ? 'another value' : JSON.stringify(v));
  const others = sources.filter((s) => s.file !== written.file);
  for (const s of [...others, { kind: written.kind, file: written.file, data: written.data ?? null }]) {
    const higher = RANK[s.kind] < RANK[written.kind];
    if (s.data === null) {
      if (s.file === written.file) continue;
      if (higher) out.push({ severity: 'info', key: '(file)', by: s.file, message: `${s.error}.`, fix: `Remove the comments and trailing commas from ${s.file}.` });
      continue;
    }
    for (const name of PROVIDER_SWITCHES) {
      const v = envOf(s.data)[name];
      if (truthy(v)) out.push({ severity: 'override', key: `env.${name}`, by: s.file, message: `${s.file} sets env.${name}=${shown(name, v)}, so Claude Code talks to that cloud directly and never to the gateway.`, fix: `Remove env.${name} from ${s.file}.` });
    }
    if (!higher) continue;
    for (const [name, value] of Object.entries(written.env)) {
      const theirs = envOf(s.data)[name];
      if (theirs !== undefined && theirs !== value) {
        out.push({ severity: 'override', key: `env.${name}`, by: s.file, message: `${s.file} sets env.${name} to ${shown(name, theirs)}, and it takes precedence over ${written.file}.`, fix: s.kind === 'managed' ? 'Managed settings come from your IT department: ask them, or connect with the values they set.' : `Remove env.${name} from ${s.file}, or run connect with --scope local in this project.` });
      }
    }
    const model = valueAt(s.data, ['model']);
    if (written.model !== undefined && model !== undefined && model !== written.model) {
      out.push({ severity: 'override', key: 'model', by: s.file, message: `${s.file} sets "model" to ${shown('model', model)}, which takes precedence over ${written.file}.`, fix: `Remove "model" from ${s.file} if the gateway's default should apply.` });
    }
  }
  for (const name of PROVIDER_SWITCHES) {
    if (truthy(env[name])) out.push({ severity: 'override', key: name, by: 'environment', message: `${name}=${env[name]} is set in your environment, so Claude Code talks to that cloud directly and never to the gateway.`, fix: `unset ${name} (and remove it from your shell profile).` });
  }
  if (env.ANTHROPIC_API_KEY) {
    out.push({ severity: 'override', key: 'ANTHROPIC_API_KEY', by: 'environment', message: 'ANTHROPIC_API_KEY is set in your environment: Claude Code sends it as x-api-key next to your gateway token, and the gateway reads x-api-key first, so that key is the one checked.', fix: 'unset ANTHROPIC_API_KEY (and remove it from your shell profile).' });
  }
  if (env.ANTHROPIC_MODEL && written.model !== undefined && env.ANTHROPIC_MODEL !== written.model) {
    out.push({ severity: 'override', key: 'ANTHROPIC_MODEL', by: 'environment', message: `ANTHROPIC_MODEL=${env.ANTHROPIC_MODEL} is set in your environment and beats the "model" setting (${written.model}).`, fix: 'unset ANTHROPIC_MODEL, unless you mean to pick that model.' });
  }
  for (const [name, value] of Object.entries(written.env)) {
    const theirs = env[name];
    if (theirs !== undefined && theirs !== value) {
      out.push({ severity: 'info', key: name, by: 'environment', message: `${name} is also set in your environment. Claude Code uses the settings value; other programs (SDK scripts) still see the environment's.`, fix: `unset ${name} if nothing else needs it.` });
    }
  }
  return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'override' ? -1 : 1));
}

/** The value Claude Code will use for each env name and for `model`, and where it comes from. */
export function effectiveSettings(sources: readonly SettingsSource[], env: Readonly<Record<string, string | undefined>>): { env: Record<string, { value: string; from: string }>; model?: { value: string; from: string } } {
  const out: { env: Record<string, { value: string; from: string }>; model?: { value: string; from: string } } = { env: {} };
  // Lowest precedence first, so each higher source overwrites.
  for (const [name, value] of Object.entries(env)) if (value !== undefined && /^(ANTHROPIC_|CLAUDE_CODE_)/.test(name)) out.env[name] = { value, from: 'environment' };
  for (const s of [...sources].reverse()) {
    for (const [name, value] of Object.entries(envOf(s.data))) if (typeof value === 'string') out.env[name] = { value, from: s.file };
    const model = valueAt(s.data ?? {}, ['model']);
    if (typeof model === 'string') out.model = { value: model, from: s.file };
  }
  if (env.ANTHROPIC_MODEL) out.model = { value: env.ANTHROPIC_MODEL, from: 'environment (ANTHROPIC_MODEL)' };
  return out;
}
