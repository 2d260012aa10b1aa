import type { AnthropicErrorType } from '../wire/errors.js';

/**
 * Bedrock's errors in Anthropic's terms. HTTP errors carry their type in `x-amzn-ErrorType`
 * (`ThrottlingException:http://...`); stream exceptions in `:exception-type` (camelCase).
 */
const BY_TYPE: Readonly<Record<string, { status: number; type: AnthropicErrorType }>> = {
  validationexception: { status: 400, type: 'invalid_request_error' },
  conflictexception: { status: 409, type: 'invalid_request_error' },
  servicequotaexceededexception: { status: 429, type: 'rate_limit_error' },
  accessdeniedexception: { status: 403, type: 'permission_error' },
  resourcenotfoundexception: { status: 404, type: 'not_found_error' },
  throttlingexception: { status: 429, type: 'rate_limit_error' },
  modelnotreadyexception: { status: 529, type: 'overloaded_error' },
  modeltimeoutexception: { status: 504, type: 'timeout_error' },
  modelerrorexception: { status: 500, type: 'api_error' },
  modelstreamerrorexception: { status: 500, type: 'api_error' },
  internalserverexception: { status: 500, type: 'api_error' },
  serviceunavailableexception: { status: 529, type: 'overloaded_error' },
};

/** The gateway's own AWS credentials were refused: the admin's problem, not the developer's. */
const CREDENTIAL_ERRORS = new Set(['unrecognizedclientexception', 'invalidsignatureexception', 'missingauthenticationtokenexception', 'expiredtokenexception', 'incompletesignatureexception']);

export function bedrockErrorName(amznErrorType: string | undefined): string {
  return (amznErrorType ?? '').split(':')[0]!.trim();
}

export function isCredentialError(name: string): boolean {
  return CREDENTIAL_ERRORS.has(name.toLowerCase());
}

export function bedrockHttpError(name: string, status: number): { status: number; type: AnthropicErrorType } {
  return BY_TYPE[name.toLowerCase()] ?? (status >= 500 ? { status: 500, type: 'api_error' } : { status: 400, type: 'invalid_request_error' });
}

export function bedrockStreamErrorType(name: string): AnthropicErrorType {
  return BY_TYPE[name.toLowerCase()]?.type ?? 'api_error';
}
