import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from 'undici';
import type { LoadedConfig } from '../config/load.js';
import type { GatehouseConfig } from '../config/schema.js';
import { resolveSecret } from '../config/secrets.js';
import { CATALOG_IDS } from '../governance/model-catalog.js';
import { KeyCache } from '../governance/key-cache.js';
import { hashSecret, newKeySecret } from '../governance/keys.js';
import { EventEmitter } from 'node:events';
import { LogWriter } from '../observe/log-writer.js';
import { otlpSettings, type OtlpSettings } from '../observe/otlp.js';
import { startRetention } from '../observe/retention.js';
import { Alerts, type Logger, type WebhookConfig } from '../governance/alerts.js';
import { BudgetLedger, type Ledger } from '../governance/budgets.js';
import { GuardrailSet } from '../governance/guardrail-set.js';
import { PolicyRegistry } from '../governance/policy-registry.js';
import { PriceBook } from '../governance/pricing.js';
import { RateLimiter, type Limiter } from '../governance/rate-limit.js';
import { anthropicProvider } from '../providers/anthropic.js';
import { bedrockProvider, type BedrockAuth } from '../providers/bedrock.js';
import { vertexProvider, type VertexAuth } from '../providers/vertex.js';
import type { ProviderConfig } from '../config/schema.js';
import type { Provider } from '../providers/types.js';
import { createAgent } from '../proxy/upstream.js';
import { ResponseCache, type AnswerCache } from '../routing/cache.js';
import { Circuits } from '../routing/circuit.js';
import { ConfigRegistry } from '../routing/registry.js';
import { resolveDataKey } from '../store/secret-box.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { openScaleOut, type ScaleOut } from '../scale/open.js';
import { ProviderRegistry } from './provider-registry.js';

/** Everything a running gateway holds: built once at start, shared by every request. */
export interface Runtime {
  readonly config: Readonly<GatehouseConfig>;
  /** Every provider, live: the file's and the admin API's (`providerRegistry` changes it). */
  readonly providers: ReadonlyMap<string, Provider>;
  /** Adds and removes the admin API's providers; `buildApp` loads the stored ones. */
  readonly providerRegistry: ProviderRegistry;
  readonly store: Store;
  /** Key lookups for the request path; admin changes clear it. */
  readonly keys: KeyCache;
  readonly agent: Agent;
  /** SHA-256 of the admin key; the key itself is not kept. */
  readonly adminKeyHash: string;
  /** Where the admin key came from, for the start-up message (never the key itself). */
  readonly adminKeySource: string;
  /** Workspaces and guardrails, live: the config file's and the admin API's; `buildApp` loads the stored ones. */
  readonly policies: PolicyRegistry;
  /** Per-provider circuit breakers, shared by every request. */
  readonly circuits: Circuits;
  /** Request, token and concurrency limits per key, workspace and developer. */
  readonly limits: Limiter;
  /** Spend against budgets: reservations in flight and what each period has used. */
  readonly budgets: Ledger;
  /** Shared limits, budgets and messages between instances, with `redis` in the config. */
  readonly scale: ScaleOut | undefined;
  /** Budget threshold alerts: events and the webhook. */
  readonly alerts: Alerts;
  readonly guardrails: GuardrailSet;
  /** Request log rows, written in groups. */
  readonly logs: LogWriter;
  /** Stops the hourly log retention job. */
  readonly stopRetention: () => void;
  /**
   * For live listeners and metrics: `request.start` (a RequestStart), `logs` (LogRow[] just
   * stored), `alert` (a BudgetAlert).
   */
  readonly events: EventEmitter;
  readonly prices: PriceBook;
  /** Named routing configs: the file's and the admin API's. */
  readonly configs: ConfigRegistry;
  /** Answers of configs with `cache`: in memory, or in Redis shared by every instance. */
  readonly cache: AnswerCache;
  /** Where request spans go (`observability.otlp`, secrets resolved); the app runs the export. */
  readonly otlp: OtlpSettings | undefined;
}

export interface RuntimeOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Where budget alerts are logged; the server's logger once it exists. */
  log?: Logger;
}

function bedrockAuth(cfg: Extract<ProviderConfig, { kind: 'bedrock' }>, dir: string, env: NodeJS.ProcessEnv): BedrockAuth {
  if (cfg.api_key !== undefined) {
    const key = resolveSecret(cfg.api_key, dir, env);
    return key.ok ? { kind: 'api_key', apiKey: key.value } : { kind: 'missing', missing: key.missing };
  }
  if (cfg.access_key_id !== undefined && cfg.secret_access_key !== undefined) {
    const id = resolveSecret(cfg.access_key_id, dir, env);
    const secret = resolveSecret(cfg.secret_access_key, dir, env);
    const token = cfg.session_token === undefined ? undefined : resolveSecret(cfg.session_token, dir, env);
    for (const r of [id, secret, token]) if (r && !r.ok) return { kind: 'missing', missing: r.missing };
    return { kind: 'static', credentials: { accessKeyId: id.ok ? id.value : '', secretAccessKey: secret.ok ? secret.value : '', ...(token?.ok ? { sessionToken: token.value } : {}) } };
  }
  return { kind: 'default_chain' };
}

function vertexAuth(cfg: Extract<ProviderConfig, { kind: 'vertex' }>, dir: string, env: NodeJS.ProcessEnv): VertexAuth {
  if (cfg.service_account === undefined) return { kind: 'adc' };
  const r = resolveSecret(cfg.service_account, dir, env);
  if (!r.ok) return { kind: 'missing', missing: r.missing };
  try {
    const sa = JSON.parse(r.value) as { client_email?: unknown; private_key?: unknown };
    if (typeof sa.client_email === 'string' && typeof sa.private_key === 'string') return { kind: 'service_account', json: r.value };
  } catch {
    // Reported below.
  }
  return { kind: 'missing', missing: `service_account (${cfg.service_account}) is not a service-account JSON with client_email and private_key.` };
}

function buildProviders(loaded: LoadedConfig, env: NodeJS.ProcessEnv): Map<string, Provider> {
  const out = new Map<string, Provider>();
  for (const [slug, cfg] of Object.entries(loaded.config.providers)) {
    switch (cfg.kind) {
      case 'anthropic':
        out.set(slug, anthropicProvider(slug, cfg, cfg.api_key === undefined ? undefined : resolveSecret(cfg.api_key, loaded.dir, env), CATALOG_IDS));
        break;
      case 'bedrock':
        out.set(slug, bedrockProvider(slug, cfg, bedrockAuth(cfg, loaded.dir, env)));
        break;
      case 'vertex':
        out.set(slug, vertexProvider(slug, cfg, vertexAuth(cfg, loaded.dir, env)));
        break;
    }
  }
  return out;
}

/**
 * The admin key comes from the config's `admin_key` reference, else GATEHOUSE_ADMIN_KEY. With
 * neither, a fresh one is generated into `<data>/admin.key` (mode 0600) so a first start works
 * and the CLI on the same machine can find it.
 */
function resolveAdminKey(loaded: LoadedConfig, dataDir: string, env: NodeJS.ProcessEnv): { key: string; source: string } {
  const ref = loaded.config.admin_key ?? 'env:GATEHOUSE_ADMIN_KEY';
  const resolved = resolveSecret(ref, loaded.dir, env);
  if (resolved.ok) return { key: resolved.value, source: ref };
  if (loaded.config.admin_key !== undefined) {
    throw new Error(`admin_key (${ref}) cannot be resolved: ${resolved.missing}`);
  }
  const file = join(dataDir, 'admin.key');
  if (!existsSync(file)) writeFileSync(file, newKeySecret().replace(/^ghk_/, 'gha_') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key: readFileSync(file, 'utf8').trim(), source: `file:${file}` };
}

const consoleLog: Logger = {
  warn: (obj, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...obj })),
  // Until the server's logger takes over (buildApp), alerts go to stderr like other start-up notes.
  info: (obj, msg) => console.warn(JSON.stringify({ level: 'info', msg, ...obj })),
};

const writerLog = {
  error: (obj: object, msg: string) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
  warn: (obj: object, msg: string) => console.error(JSON.stringify({ level: 'warn', msg, ...obj })),
};

function webhookConfig(loaded: LoadedConfig, env: NodeJS.ProcessEnv): WebhookConfig | undefined {
  const hook = loaded.config.budgets.webhook;
  if (!hook) return undefined;
  let secret: string | undefined;
  if (hook.secret !== undefined) {
    const r = resolveSecret(hook.secret, loaded.dir, env);
    if (!r.ok) throw new Error(`budgets.webhook.secret (${hook.secret}) cannot be resolved: ${r.missing}`);
    secret = r.value;
  }
  return { url: hook.url, secret, max_attempts: hook.max_attempts, retry_base_ms: hook.retry_base_ms };
}

export function createRuntime(loaded: LoadedConfig, opts: RuntimeOptions): Runtime {
  const env = opts.env ?? process.env;
  // Before anything is opened: an unresolvable header stops the start.
  const otlp = otlpSettings(loaded, env);
  const dataKey = resolveDataKey(opts.dataDir, env);
  const store = openStore(loaded, opts.dataDir, env);
  const admin = resolveAdminKey(loaded, opts.dataDir, env);
  const providerRegistry = new ProviderRegistry(buildProviders(loaded, env), dataKey);
  const providers = providerRegistry.providers;
  const agent = createAgent(loaded.config.server.timeouts);
  const policies = new PolicyRegistry(loaded.config);
  const guardrails = new GuardrailSet(policies);
  const alerts = new Alerts(store, webhookConfig(loaded, env), agent, opts.log ?? consoleLog);
  const events = new EventEmitter();
  // Any number of live listeners may subscribe.
  events.setMaxListeners(0);
  alerts.events.on('alert', (a) => events.emit('alert', a));
  // With `redis` in the config, limits and budgets are shared by every instance; else in memory.
  const scale = openScaleOut(loaded, env, store, alerts.crossed, opts.log ?? consoleLog);
  return {
    config: loaded.config,
    providers,
    providerRegistry,
    limits: scale?.limits ?? new RateLimiter(),
    budgets: scale?.budgets ?? new BudgetLedger(store, alerts.crossed),
    scale,
    alerts,
    guardrails,
    events,
    stopRetention: startRetention(store, loaded.config.logs.retention_days, consoleLog),
    logs: new LogWriter(store, (rows) => events.emit('logs', rows), writerLog, { journalDir: opts.dataDir }),
    prices: new PriceBook(loaded.config.pricing),
    configs: new ConfigRegistry(loaded.config.configs, providers, guardrails),
    store,
    keys: new KeyCache(store),
    agent,
    adminKeyHash: hashSecret(admin.key),
    adminKeySource: admin.source,
    policies,
    cache: scale?.cache ?? new ResponseCache(),
    otlp,
    circuits: new Circuits(
      { threshold: loaded.config.routing.circuit_breaker.failure_threshold, cooldownMs: loaded.config.routing.circuit_breaker.cooldown_ms },
      // Visible in the gateway's log until request logs and metrics carry it.
      (slug, state) => console.warn(JSON.stringify({ level: 'warn', msg: `circuit for provider @${slug} is now ${state}`, provider: slug, circuit: state })),
    ),
  };
}

export async function closeRuntime(rt: Runtime): Promise<void> {
  rt.alerts.close();
  rt.stopRetention();
  await rt.logs.close();
  await rt.budgets.flush();
  await rt.budgets.close?.();
  await rt.agent.close();
  await rt.store.close();
}
