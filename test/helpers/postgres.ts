// A throw-away PostgreSQL cluster from Debian's server binaries, for tests that need a real
// database: one cluster per test run (postgres-global.ts starts it), one fresh database per file
// (postgres-test-db.ts). No vitest import here: the benchmark starts clusters with it too.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin directory; no PostgreSQL is a setup error, never a skip. */
export function postgresBin(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error(`No PostgreSQL server binaries under ${PG_ROOT}/<version>/bin. The PostgreSQL tests need them: install with "apt-get install postgresql".`);
  }
  return join(PG_ROOT, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr !== null && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** One `postgres` user id pair, when the tests run as root (initdb refuses root). */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('The tests run as root and initdb refuses root, but there is no "postgres" user to run it as; install the server with "apt-get install postgresql" (it creates the user).');
  }
}

export class PgCluster {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asPostgres: boolean,
  ) {}

  /** The superuser's URL for the `postgres` database (trust auth, loopback only). */
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private run(tool: string, args: string[]): void {
    const cmd = this.asPostgres ? 'runuser' : join(this.bin, tool);
    const argv = this.asPostgres ? ['-u', 'postgres', '--', join(this.bin, tool), ...args] : args;
    const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: this.dir });
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
  }

  /** initdb into a fresh temp dir and start it on a free loopback port. */
  static async create(): Promise<PgCluster> {
    const bin = postgresBin();
    const user = postgresUser();
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
    if (user) chownSync(dir, user.uid, user.gid);
    const cluster = new PgCluster(bin, dir, await freePort(), user !== undefined);
    try {
      // --no-sync and fsync=off: a test cluster need not survive a power cut.
      cluster.run('initdb', ['-D', cluster.dataDir, '--auth=trust', '-U', 'postgres', '--encoding=UTF8', '--no-sync', '--no-instructions']);
      cluster.start();
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return cluster;
  }

  /** Starts (or restarts, on the same data and port) the server, waiting until it accepts connections. */
  start(): void {
    // fsync=off is safe here (the OS outlives the server); synchronous_commit stays on, else an
    // immediate stop would lose commits the WAL writer had not written yet, and fault tests with them.
    const opts = [`-c listen_addresses=127.0.0.1`, `-p ${this.port}`, `-k ${this.dir}`, '-c fsync=off', '-c full_page_writes=off', '-c max_connections=200'];
    this.run('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', '-o', opts.join(' '), 'start']);
  }

  /** Stops the server at once (as a crash would), keeping its data for `start`. */
  stop(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  /** Stops the server and deletes its data. */
  destroy(): void {
    try {
      this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Creates an empty database on the cluster at `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string): Promise<string> {
  // Hex only, so the name is safe as an identifier.
  const name = `gh_${Math.random().toString(16).slice(2, 14)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
