import { z } from 'zod';
import { WorkspaceSchema } from '../config/schema.js';
import { GuardrailSchema } from '../governance/guardrails/schema.js';
import { ApiProviderBody } from '../providers/api-provider.js';
import { VERSION } from '../server/version.js';
import { CreateAdminKeyBody } from './admin-admins.js';
import { CreateKeyBody, RotateKeyBody, UpdateKeyBody } from './schemas.js';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const errorRef = { description: "Anthropic's error envelope", content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const keyId = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const admin = [{ adminKey: [] }];
const client = [{ bearer: [] }, { apiKey: [] }, { portkeyKey: [] }];

/** GET routes described by a summary; their answers are JSON (or an event stream where said). */
function reads(security: unknown, routes: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(routes).map(([path, summary]) => [
      path,
      { get: { summary, security, parameters: [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })), responses: { 200: { description: 'OK' }, default: errorRef } } },
    ]),
  );
}

/** The OpenAPI document of `/api/openapi.json`, generated from the same zod schemas the routes use. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse', version: VERSION, description: 'A governed gateway for Claude clients: the Anthropic Messages API plus its own admin API.' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A Gatehouse key (ghk_...) or, on /api/admin, the admin key' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        portkeyKey: { type: 'apiKey', in: 'header', name: 'x-portkey-api-key' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The admin key (GATEHOUSE_ADMIN_KEY)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['type', 'error', 'request_id'],
          properties: {
            type: { const: 'error' },
            error: { type: 'object', properties: { type: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', properties: { error_code: { type: 'string' } } } } },
            request_id: { type: 'string' },
          },
        },
      },
    },
    paths: {
      '/v1/messages': { post: { summary: 'Create a message (Anthropic Messages API, streaming or not); body and headers pass through', security: client, responses: { 200: { description: 'The provider\'s answer, JSON or text/event-stream' }, default: errorRef } } },
      '/v1/messages/count_tokens': { post: { summary: 'Count tokens through the provider', security: client, responses: { 200: { description: '{"input_tokens": N}' }, default: errorRef } } },
      '/v1/models': { get: { summary: 'Models this key may use (Anthropic shape and paging)', security: client, parameters: ['limit', 'after_id', 'before_id'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })), responses: { 200: { description: 'A page of ModelInfo' }, default: errorRef } } },
      '/v1/models/{id}': { get: { summary: 'One model', security: client, parameters: keyId, responses: { 200: { description: 'ModelInfo' }, default: errorRef } } },
      '/api/admin/keys': {
        post: { summary: 'Create a key; the secret is in the answer only', security: admin, requestBody: { content: json(CreateKeyBody) }, responses: { 201: { description: 'The key, with `key`' }, default: errorRef } },
        get: { summary: 'List keys (never their secrets)', security: admin, parameters: [{ name: 'workspace', in: 'query', schema: { type: 'string' } }], responses: { 200: { description: '{"data": [key, ...]}' }, default: errorRef } },
      },
      '/api/admin/keys/{id}': {
        get: { summary: 'One key', security: admin, parameters: keyId, responses: { 200: { description: 'The key' }, default: errorRef } },
        patch: { summary: "Change a key's policy: limits, budget, models, metadata (null removes)", security: admin, parameters: keyId, requestBody: { content: json(UpdateKeyBody) }, responses: { 200: { description: 'The key' }, default: errorRef } },
      },
      '/api/admin/admin-keys': {
        post: { summary: 'Create an admin key (role admin or read_only); the secret is in the answer only', security: admin, requestBody: { content: json(CreateAdminKeyBody) }, responses: { 201: { description: 'The admin key, with `key`' }, default: errorRef } },
        get: { summary: 'List admin keys (never their secrets)', security: admin, responses: { 200: { description: '{"data": [...]}' }, default: errorRef } },
      },
      '/api/admin/providers/{id}': {
        put: { summary: 'Create or replace a provider: its config-file settings with literal `credentials`, stored encrypted and never shown (409 for a config-file provider)', security: admin, parameters: keyId, requestBody: { content: json(ApiProviderBody) }, responses: { 200: { description: 'The provider, with credential names only' }, default: errorRef } },
        delete: { summary: 'Delete a provider created through the API (409 while a key or config names it)', security: admin, parameters: keyId, responses: { 204: { description: 'Deleted' }, default: errorRef } },
      },
      '/api/admin/workspaces/{id}': {
        put: { summary: 'Create or replace a workspace (the config file\'s workspace fields; 409 for a config-file workspace); applies from the next request', security: admin, parameters: keyId, requestBody: { content: json(WorkspaceSchema) }, responses: { 200: { description: 'The workspace, with its budgets' }, default: errorRef } },
        delete: { summary: 'Delete a workspace created through the API (409 while a key that is not revoked belongs to it)', security: admin, parameters: keyId, responses: { 204: { description: 'Deleted' }, default: errorRef } },
      },
      '/api/admin/guardrails/{id}': {
        put: { summary: 'Create or replace a guardrail (409 for a config-file guardrail); applies from the next request', security: admin, parameters: keyId, requestBody: { content: json(GuardrailSchema) }, responses: { 200: { description: 'The guardrail' }, default: errorRef } },
        delete: { summary: 'Delete a guardrail created through the API (409 while a workspace or routing config names it)', security: admin, parameters: keyId, responses: { 204: { description: 'Deleted' }, default: errorRef } },
      },
      ...reads(admin, {
        '/api/admin/logs': 'Request logs, newest first: filter by metadata.<field>, key_id, workspace, model, provider, status, trace_id, session_id, since, until; limit and cursor',
        '/api/admin/logs/{id}': 'One log row',
        '/api/admin/logs/{id}/bodies': 'What the log kept of the bodies (by workspace policy)',
        '/api/admin/analytics': 'Requests, errors, cost, tokens by kind, latency and TTFT percentiles, grouped (group_by) over time buckets (bucket)',
        '/api/admin/traces/{id}': 'The rows of a trace, with totals',
        '/api/admin/sessions/{id}': 'The rows of a Claude Code session, with totals',
        '/api/admin/budgets': 'Every budget: limit, period, spent, reserved, remaining, reset time',
        '/api/admin/workspaces': 'Workspaces with their policy and budgets',
        '/api/admin/configs': 'Routing configs (the file\'s and the API\'s)',
        '/api/admin/providers': 'Providers and their readiness (never credentials)',
        '/api/admin/guardrails': 'Guardrail definitions',
        '/api/admin/circuits': 'Circuit-breaker state per provider',
        '/api/admin/events': 'Live events (text/event-stream): request.start, request.finish, budget.alert',
      }),
      ...reads(client, {
        '/api/me': "The calling key: policy, workspace, limits, budgets with spend",
        '/api/me/usage': 'The calling key\'s usage: totals and by model for a range, and for a session',
        '/api/me/logs': "The calling key's request logs (the same filters as /api/admin/logs)",
        '/api/me/logs/{id}/bodies': "What the log kept of the bodies of one of the calling key's requests",
        '/api/me/events': 'Live events for the calling key (text/event-stream): request.start, request.finish, spend, budget.alert',
        '/api/me/diagnostics/stream': 'A short event stream that costs nothing: shows whether something between client and gateway buffers or strips streaming',
      }),
      '/api/admin/keys/{id}/revoke': { post: { summary: 'Revoke a key now', security: admin, parameters: keyId, responses: { 200: { description: 'The key' }, default: errorRef } } },
      '/api/admin/keys/{id}/rotate': {
        post: { summary: 'Issue a new secret; the old one works for the grace period', security: admin, parameters: keyId, requestBody: { content: json(RotateKeyBody) }, responses: { 200: { description: 'The key, with the new `key`' }, default: errorRef } },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness; 503 while shutting down or while the database cannot be reached', responses: { 200: { description: 'ready' }, 503: { description: 'shutting down, or the database is unreachable' } } } },
    },
  };
}
