import type { LogRow } from '../observe/log-row.js';
import type { StoredBodies } from '../store/sqlite-bodies.js';
import { adminCall, adminTarget, ApiError, queryString, type AdminTarget } from './admin-client.js';
import { metaFlags, metaParams, parseFlags, positiveInt, timeFlag } from './flags.js';
import { compactMeta, int, ms, table, time, usd, type Column } from './table.js';

/** `gatehouse logs`: the request log, filtered as `/api/admin/logs` filters it; `logs show ID` for one row. */

interface Page {
  data: LogRow[];
  next_cursor: string | null;
}

const MAX_PAGE = 500;

const COLUMNS: Array<Column<LogRow>> = [
  { header: 'TIME', cell: (r) => time(r.created_at) },
  { header: 'ID', cell: (r) => r.id },
  { header: 'KEY', cell: (r) => r.key_name ?? r.key_id ?? '-' },
  { header: 'MODEL', cell: (r) => r.served_model ?? r.model ?? '-' },
  { header: 'PROVIDER', cell: (r) => (r.provider ? '@' + r.provider : '-') },
  { header: 'STATUS', cell: (r) => String(r.status), right: true },
  { header: 'TOKENS in/out', cell: (r) => `${int(r.input_tokens)}/${int(r.output_tokens)}`, right: true },
  { header: 'COST', cell: (r) => usd(r.cost_usd), right: true },
  { header: 'LATENCY', cell: (r) => ms(r.latency_ms), right: true },
  { header: 'METADATA', cell: (r) => compactMeta(r.metadata) },
];

const FLAGS = {
  key: { type: 'string' },
  workspace: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  status: { type: 'string' },
  trace: { type: 'string' },
  session: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  meta: { type: 'string', multiple: true },
  limit: { type: 'string' },
  all: { type: 'boolean', default: false },
  bodies: { type: 'boolean', default: false },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function runLogs(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('logs', argv, FLAGS);
  const [sub, ...extra] = positionals;
  if (sub === 'show') {
    const id = extra[0];
    if (!id || extra.length > 1) throw new Error('logs show needs one log ID (the ID column of gatehouse logs, or a response\'s request-id).');
    return show(adminTarget(values.data), id, values.bodies, values.json);
  }
  if (sub !== undefined && sub !== 'list') {
    console.error(`gatehouse logs: unknown subcommand "${sub}"; use gatehouse logs [filters] or gatehouse logs show ID (gatehouse --help).`);
    return 2;
  }
  if (values.bodies) throw new Error('--bodies goes with logs show ID.');
  const status = values.status;
  if (status !== undefined && !/^[1-5]\d\d$/.test(status)) throw new Error(`--status needs an HTTP status such as 200 or 429; got "${status}".`);
  const limit = positiveInt('--limit', values.limit, MAX_PAGE);
  const filters: Array<[string, string | undefined]> = [
    ['key_id', values.key],
    ['workspace', values.workspace],
    ['model', values.model],
    ['provider', values.provider?.replace(/^@/, '')],
    ['status', status],
    ['trace_id', values.trace],
    ['session_id', values.session],
    ['since', timeFlag('--since', values.since)],
    ['until', timeFlag('--until', values.until)],
    ...metaParams(metaFlags('--meta', values.meta)),
  ];
  const target = adminTarget(values.data);

  // --all follows next_cursor to the end, a full page at a time; otherwise one page of --limit rows.
  const rows: LogRow[] = [];
  let cursor: string | undefined;
  let next: string | null = null;
  do {
    const page = await adminCall<Page>(target, 'GET', `/api/admin/logs${queryString([...filters, ['limit', values.all ? (limit ?? MAX_PAGE) : (limit ?? 50)], ['cursor', cursor]])}`);
    rows.push(...page.data);
    next = page.next_cursor;
    cursor = next ?? undefined;
  } while (values.all && cursor);

  if (values.json) {
    console.log(JSON.stringify({ data: rows, next_cursor: next }));
    return 0;
  }
  if (rows.length === 0) {
    console.log('No requests match.');
    return 0;
  }
  console.log(table(COLUMNS, rows));
  if (next) console.log(`\nShowing the newest ${rows.length}; add --all for every match, or narrow with --since.`);
  return 0;
}

async function show(target: AdminTarget, id: string, withBodies: boolean, json: boolean): Promise<number> {
  const path = `/api/admin/logs/${encodeURIComponent(id)}`;
  const row = await adminCall<LogRow>(target, 'GET', path);
  let bodies: StoredBodies | null | undefined;
  if (withBodies) {
    try {
      bodies = await adminCall<StoredBodies>(target, 'GET', `${path}/bodies`);
    } catch (e) {
      // Not an error: the workspace's log_bodies policy is "none" (or the request had no body).
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      bodies = null;
    }
  }
  if (json) {
    console.log(JSON.stringify(withBodies ? { ...row, bodies } : row));
    return 0;
  }
  console.log(describeRow(row));
  if (bodies === null) console.log('\nBodies:     none kept (the workspace\'s log_bodies policy is "none").');
  else if (bodies) {
    console.log(`\nBodies:     ${JSON.stringify(bodies.summary)}`);
    if (bodies.request !== undefined) console.log(`\nRequest:\n${JSON.stringify(bodies.request, null, 2)}`);
    if (bodies.response !== undefined) console.log(`\nResponse:\n${bodies.response}`);
  }
  return 0;
}

function describeRow(r: LogRow): string {
  const model = r.served_model && r.served_model !== r.model ? `${r.model ?? '-'} (answered as ${r.served_model})` : (r.model ?? '-');
  const lines: Array<[string, string | null | false]> = [
    ['Log', r.id],
    ['Time', time(r.created_at)],
    ['Key', r.key_id ? `${r.key_id}${r.key_name ? ` (${r.key_name})` : ''}` : '-'],
    ['Workspace', r.workspace],
    ['Endpoint', `${r.endpoint}${r.stream ? ' (stream)' : ''}`],
    ['Model', model],
    ['Provider', r.provider ? `@${r.provider}${r.upstream_request_id ? `, request-id ${r.upstream_request_id}` : ''}` : '-'],
    ['Route', r.route_path && `${r.route_path}, ${r.retries} retries, cache ${r.cache_status ?? '-'}`],
    ['Status', `${r.status} ${r.outcome}`],
    ['Error', r.error_message && `${r.error_code ?? r.error_type}: ${r.error_message}`],
    ['Tokens', `${int(r.input_tokens)} in, ${int(r.output_tokens)} out, ${int(r.cache_read_input_tokens)} cache read, ${int(r.cache_creation_input_tokens)} cache write${r.usage_final ? '' : ' (estimated)'}`],
    ['Cost', usd(r.cost_usd)],
    ['Latency', `${ms(r.latency_ms)} (first byte ${ms(r.ttft_ms)})`],
    ['Trace', r.trace_id],
    ['Session', r.session_id],
    ['Metadata', compactMeta(r.metadata, 200)],
    ['Guardrails', r.guardrails.length > 0 && r.guardrails.map((g) => `${g.id} ${g.action}`).join(', ')],
    ['User agent', r.user_agent],
  ];
  return lines.filter((l): l is [string, string] => typeof l[1] === 'string' && l[1] !== '').map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join('\n');
}
