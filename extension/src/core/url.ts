/**
 * The gateway URL as Claude Code wants it in ANTHROPIC_BASE_URL: scheme, host, port and an
 * optional path prefix, with no trailing slash and no /v1 (Claude Code appends /v1/messages
 * itself; the seeds' "No trailing slash, no /v1"). Usual slips are corrected and each correction
 * is reported, so the developer learns what the admin's URL should have been.
 */

export interface GatewayUrl {
  /** e.g. `https://gatehouse.example.com` or `http://127.0.0.1:8787/gw`. */
  url: string;
  /** One sentence per correction made. */
  notes: string[];
}

export class UrlError extends Error {
  override name = 'UrlError';
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOST.test(hostname);
}

export function normaliseGatewayUrl(input: string): GatewayUrl {
  const notes: string[] = [];
  let text = input.trim();
  if (!text) throw new UrlError('The gateway URL is empty. Ask your platform admin for it, e.g. https://gatehouse.example.com.');
  if (/\s/.test(text)) throw new UrlError(`The gateway URL "${input}" contains spaces; paste the URL alone.`);

  if (!SCHEME.test(text)) {
    // A gateway on this machine usually has no certificate; anything else should use TLS.
    const host = text.split(/[/?#]/)[0]!.replace(/:\d+$/, '');
    const scheme = isLoopback(host) ? 'http' : 'https';
    text = `${scheme}://${text}`;
    notes.push(`Added ${scheme}:// in front of the URL, which had no scheme.`);
  }
  if (/[?#]/.test(text)) {
    throw new UrlError(`The gateway URL must not have a query or fragment ("${text.slice(text.search(/[?#]/))}"): give the gateway's address only, e.g. https://gatehouse.example.com.`);
  }

  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UrlError(`"${input}" is not a URL. Give the gateway's address, e.g. https://gatehouse.example.com.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UrlError(`The gateway URL must start with https:// (or http:// for a gateway on this machine), not ${u.protocol}//.`);
  if (u.username || u.password) throw new UrlError('The gateway URL must not contain a user name or password: the key is given separately and sent as a bearer token.');

  // The path as typed, since URL turns "https://h" into "https://h/" and hides a real trailing slash.
  const typedPath = text.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  let path = u.pathname;
  if (/\/$/.test(typedPath)) {
    path = path.replace(/\/+$/, '');
    notes.push('Removed the trailing slash: Claude Code appends /v1/messages to the base URL itself.');
  }
  const v1 = /\/v1(\/messages)?\/*$/i.exec(path);
  if (v1) {
    path = path.slice(0, v1.index).replace(/\/+$/, '');
    notes.push(`Removed ${v1[0].replace(/\/+$/, '')} from the end: Claude Code adds /v1 itself, so a base URL ending in /v1 makes it call /v1/v1/messages (a 404).`);
  }
  path = path.replace(/\/+$/, '');

  if (u.protocol === 'http:' && !isLoopback(u.hostname)) {
    notes.push(`The URL uses http://, so your key travels unencrypted to ${u.host}; ask your admin whether an https:// address exists.`);
  }
  return { url: `${u.protocol}//${u.host}${path}`, notes };
}
