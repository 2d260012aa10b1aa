import { runChecklist } from './checklist.js';
import { runConfigs } from './configs.js';
import { runConnect, runDisconnect } from './connect.js';
import { runDoctorCommand } from './doctor.js';
import { runKeys } from './keys.js';
import { runLogs } from './logs.js';
import { runGuardrails } from './guardrails.js';
import { runProviders } from './providers.js';
import { runServe } from './serve.js';
import { runUsage } from './usage.js';
import { runBudgets, runWorkspaces } from './workspaces.js';
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

  gatehouse logs [--key ID] [--workspace W] [--model M] [--provider P] [--status 429]
                 [--trace T] [--session S] [--since 2h|ISO] [--until 30m|ISO]
                 [--meta team=support --meta env=prod] [--limit 50] [--all] [--json]
  gatehouse logs show LOG_ID [--bodies] [--json]
  gatehouse usage [--group-by model,metadata.team] [--bucket hour|day|none] [--since 7d] [--until ...]
                  [--meta k=v] [--key ID] [--workspace W] [--model M] [--provider P] [--json]
  gatehouse workspaces [list] [--workspace W] [--json]
  gatehouse workspaces put ID --file workspace.json [--json]
  gatehouse workspaces delete ID [--json]
  gatehouse guardrails list [--json]
  gatehouse guardrails put ID --file guardrail.json [--json]
  gatehouse guardrails delete ID [--json]
  gatehouse providers list [--json]
  gatehouse providers put ID --file provider.json [--json]
  gatehouse providers delete ID [--json]
  gatehouse budgets [--workspace W] [--json]
  gatehouse configs list [--workspace W] [--json]
  gatehouse configs show ID [--json]
  gatehouse configs put ID --file config.json [--workspace W] [--json]
  gatehouse configs delete ID [--json]
  gatehouse checklist --key KEY [--model claude-haiku-5-5] [--meta user=ann] [--json]

  gatehouse connect --gateway URL --key KEY [--scope user|project|local] [--meta field=value ...] [--yes] [--json]
  gatehouse disconnect [--scope user|project|local] [--json]
  gatehouse doctor [--gateway URL] [--key KEY] [--json]

Every command but serve calls a running gateway: GATEHOUSE_URL (default http://127.0.0.1:8787)
and GATEHOUSE_ADMIN_KEY (default: the admin.key file in --data, ./.gatehouse). --since and
--until take a duration (2h, 30m, 7d: that long ago) or an ISO time. checklist runs the
pre-launch checks with a developer's key (it sends two small requests, max_tokens 8) and
exits 1 if any fails.

connect points Claude Code at a gateway for a developer: it checks the key with GET /api/me,
fills the admin's metadata template (user from git config user.email) and writes
~/.claude/settings.json (--scope local or project: this project's gitignored
.claude/settings.local.json, never the committed settings.json), keeping a backup; disconnect
puts the file back as it was. doctor runs the troubleshooting checks against
the settings Claude Code will read (or --gateway/--key) and exits 1 if any fails.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return runServe(rest);
    case 'keys':
      return runKeys(rest);
    case 'logs':
      return runLogs(rest);
    case 'usage':
      return runUsage(rest);
    case 'workspaces':
      return runWorkspaces(rest);
    case 'budgets':
      return runBudgets(rest);
    case 'guardrails':
      return runGuardrails(rest);
    case 'providers':
      return runProviders(rest);
    case 'configs':
      return runConfigs(rest);
    case 'checklist':
      return runChecklist(rest);
    case 'connect':
      return runConnect(rest);
    case 'disconnect':
      return runDisconnect(rest);
    case 'doctor':
      return runDoctorCommand(rest);
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
