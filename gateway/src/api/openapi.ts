import { z } from 'zod';
import { VERSION } from '../server/version.js';
import { CreateKeyBody, RotateKeyBody } from './schemas.js';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const errorRef = { description: "Anthropic's error envelope", content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const keyId = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const admin = [{ adminKey: [] }];
const client = [{ bearer: [] }, { apiKey: [] }, { portkeyKey: [] }];

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
      '/api/admin/keys/{id}': { get: { summary: 'One key', security: admin, parameters: keyId, responses: { 200: { description: 'The key' }, default: errorRef } } },
      '/api/admin/keys/{id}/revoke': { post: { summary: 'Revoke a key now', security: admin, parameters: keyId, responses: { 200: { description: 'The key' }, default: errorRef } } },
      '/api/admin/keys/{id}/rotate': {
        post: { summary: 'Issue a new secret; the old one works for the grace period', security: admin, parameters: keyId, requestBody: { content: json(RotateKeyBody) }, responses: { 200: { description: 'The key, with the new `key`' }, default: errorRef } },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness; 503 while shutting down', responses: { 200: { description: 'ready' }, 503: { description: 'shutting down' } } } },
    },
  };
}
