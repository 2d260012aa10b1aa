import { runKeys } from './keys.js';
import { runServe } from './serve.js';
import { VERSION } from '../server/version.js';

const HELP = `gatehouse ${VERSION}: a governed gateway for Claude clients

Usage:
  gatehouse serve [--config gatehouse.jsonc] [--host 127.0.0.1] [--port 8787] [--data DIR]
  gatehouse keys create --name NAME [--workspace W] [--provider @slug] [--config ID]
                        [--metadata JSON] [--expires 30d] [--allowed-models 'claude-sonnet-*,...']
                        [--required-metadata user,team] [--rpm 60] [--tpm 200000] [--max-concurrent 4]
                        [--budget-usd 25] [--budget-tokens N] [--budget-period day|week|month|lifetime]
                        [--allow-inline-config] [--json]
  gatehouse keys update KEY_ID [the same policy flags; "none" removes a limit or budget] [--json]
  gatehouse keys list [--workspace W] [--json]
  gatehouse keys revoke KEY_ID [--json]
  gatehouse keys rotate KEY_ID [--grace 24h] [--json]

The keys commands call a running gateway: GATEHOUSE_URL (default http://127.0.0.1:8787) and
GATEHOUSE_ADMIN_KEY (default: the admin.key file in --data, ./.gatehouse).
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return runServe(rest);
    case 'keys':
      return runKeys(rest);
    case 'version':
    case '--version':
      console.log(VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      console.error(`gatehouse: unknown command "${cmd}".\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`gatehouse: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
