/** A hint for the usual base-URL mistakes (the seeds' "no trailing slash, no /v1"). */
export function notFoundHint(path: string): string {
  if (path.includes('/v1/v1')) {
    return ' The base URL ends in /v1 and the client adds another /v1: set ANTHROPIC_BASE_URL to the gateway address without /v1, e.g. http://127.0.0.1:8787.';
  }
  if (path.length > 1 && path.endsWith('/')) {
    return ` Remove the trailing slash: ${path.replace(/\/+$/, '')}. In ANTHROPIC_BASE_URL, leave no trailing slash.`;
  }
  if (/\/\/+/.test(path)) {
    return ' The path has a double slash: check that ANTHROPIC_BASE_URL has no trailing slash.';
  }
  if (path.startsWith('/v1/') || path.startsWith('/api/')) {
    return ' This gateway serves POST /v1/messages, POST /v1/messages/count_tokens, GET /v1/models and GET /v1/models/{id}, and its own API under /api/.';
  }
  return '';
}
