// A real VS Code for the extension's tests: code-server 4.100.3 (VS Code 1.100.3) on loopback,
// with throw-away user data, extensions and HOME, driven by Debian's Chromium through
// playwright-core (shared/reference/vscode-testing.md tells why this is the route that works offline).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CODE_SERVER_VERSION = '4.100.3';
const TOOLS = join(ROOT, '.tools/code-server');
export const CODE_SERVER_BIN = join(TOOLS, 'node_modules/.bin/code-server');
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Installs the pinned code-server when it is missing (about 1.5 min the first time; .ci/run does
 * it before the tests). Missing Debian packages are reported by the script with the apt command.
 */
export function ensureCodeServer(): string {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)`);
  const r = spawnSync('bash', [join(ROOT, 'test/vscode/install-code-server.sh'), TOOLS], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`code-server install failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return CODE_SERVER_BIN;
}

/** Settings that keep the workbench quiet: no walkthrough stealing focus, no update or gallery calls. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'git.enabled': false,
};

export interface CodeServerDirs {
  state: string;
  userData: string;
  extensions: string;
}

/** `settings`: user settings on top of the quiet ones (what a developer or an admin policy would set). */
export function makeDirs(settings: Record<string, unknown> = {}): CodeServerDirs {
  const state = mkdtempSync(join(tmpdir(), 'gatehouse-vscode-'));
  const userData = join(state, 'ud');
  const extensions = join(state, 'ext');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  writeFileSync(join(userData, 'User/settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  return { state, userData, extensions };
}

function baseEnv(dirs: CodeServerDirs, env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(dirs.state, 'xdg'), XDG_DATA_HOME: join(dirs.state, 'xdgdata'), ...env };
  // The developer's own gateway settings must not leak into the host under test.
  for (const k of Object.keys(out)) if (k.startsWith('ANTHROPIC_') || (k.startsWith('CLAUDE_') && !(k in env))) delete out[k];
  return out;
}

/** Packs an extension folder into a .vsix with vsce, as `npm run package` does for ours. */
export function packageVsix(dir: string, out: string): string {
  const r = spawnSync(join(ROOT, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '-o', out], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`vsce package ${dir} failed:\n${r.stdout}\n${r.stderr}`);
  return out;
}

/**
 * A HOME for the extension host. VS Code's server takes the extension host's environment from a
 * login shell of that HOME, so PATH is set the way a developer's is: in ~/.profile, with the
 * directory of the pinned Claude Code CLI (as `npm install -g` would put it on PATH).
 */
export function makeHome(parent: string, gitEmail?: string): string {
  const home = join(parent, 'home');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.profile'), `export PATH="${join(ROOT, 'node_modules/.bin')}:$PATH"\n`);
  if (gitEmail) writeFileSync(join(home, '.gitconfig'), `[user]\n\temail = ${gitEmail}\n`);
  return home;
}

/** `code-server --install-extension` into the given dirs; returns what `--list-extensions` prints. */
export function installVsix(dirs: CodeServerDirs, vsix: string): string {
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  const env = baseEnv(dirs, {});
  const inst = spawnSync(CODE_SERVER_BIN, [...common, '--install-extension', vsix], { encoding: 'utf8', env, timeout: 120_000 });
  if (inst.status !== 0) throw new Error(`--install-extension failed: ${inst.stdout}\n${inst.stderr}`);
  const list = spawnSync(CODE_SERVER_BIN, [...common, '--list-extensions', '--show-versions'], { encoding: 'utf8', env, timeout: 60_000 });
  return list.stdout;
}

export interface RunningCodeServer {
  url: string;
  dirs: CodeServerDirs;
  /** Everything the server printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts code-server on 127.0.0.1 with a free port; `env` reaches the extension host's
 * `process.env` (HOME included, so ~/.claude is the test's own).
 */
export async function startCodeServer(dirs: CodeServerDirs, env: Record<string, string>): Promise<RunningCodeServer> {
  const args = ['--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  // detached = setsid: code-server forks watchers and the extension host; the whole group is killed on close.
  const child: ChildProcess = spawn(CODE_SERVER_BIN, args, { env: baseEnv(dirs, env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`code-server did not start in 60 s:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`code-server exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url,
    dirs,
    output: () => out,
    async close() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const killer = setTimeout(() => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 3000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

export function removeDirs(dirs: CodeServerDirs): void {
  rmSync(dirs.state, { recursive: true, force: true });
}
