import type { SecretKind } from './schema.js';
import { eachIndex, isAlnum, isToken, leftEdge, rightEdge, STOP, stickyEnd, type ScanFn } from './scan.js';

/**
 * Secret detectors. Each kind is found from a short literal with a rare first character ("A",
 * "_", "k-", "xox", "yJ", "VATE"), searched with indexOf, and checked there with a sticky regex:
 * a dozen full-text regexes would each cost as much as the whole scan.
 */

interface Found {
  kind: SecretKind;
  start: number;
  end: number;
}

interface Probe {
  anchor: string;
  kinds: readonly SecretKind[];
  at(s: string, i: number, raw: boolean, want: ReadonlySet<SecretKind>): Found | undefined;
}

const found = (kind: SecretKind, start: number, end: number): Found => ({ kind, start, end });
const isWord = (c: number) => isAlnum(c) || c === 95;
const isAlnumOrDash = (c: number) => isAlnum(c) || c === 45;
const isTokenOrSlash = (c: number) => isAlnum(c) || c === 43 || c === 47 || c === 61;

const AWS_KEY_ID = /A[KS]IA[A-Z0-9]{16}/y;
const GOOGLE_KEY = /AIza[0-9A-Za-z_-]{35}/y;
const GITHUB_BODY = /[A-Za-z0-9]{36}/y;
const GITHUB_PAT_BODY = /[A-Za-z0-9_]{40,255}/y;
const GATEHOUSE_BODY = /[A-Za-z0-9]{43}/y;
const STRIPE_BODY = /[A-Za-z0-9]{20,247}/y;
const ANTHROPIC = /sk-ant-[A-Za-z0-9_-]{32,300}/y;
const OPENAI = /sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,300}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})/y;
const SLACK = /xox[abposr]-[0-9A-Za-z-]{10,250}/y;
const JWT = /eyJ[A-Za-z0-9_-]{5,1000}\.[A-Za-z0-9_-]{5,10000}\.[A-Za-z0-9_-]{8,2000}/y;
/** The raw pre-check looks at a JWT's header and the start of its payload: it stays short. */
const JWT_HEAD = /eyJ[A-Za-z0-9_-]{5,1000}\.[A-Za-z0-9_-]{5}/y;
const PEM_HEAD = /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----/y;
const PEM_BODY = /[A-Za-z0-9+/=\s\\]*/y;
/** The value after an AWS secret label: `= "…"`, `: …`, `=> '…'`; 40 characters of base64. */
const AWS_SECRET_VALUE = /["']?\s*(?:=>|[:=])\s*["']?[A-Za-z0-9/+]{40}/y;
const SNAKE_LABEL = /secret_(access_)?key/iy;
const GCP_FIELD = /private_key(_id)?"\s*:\s*"([^"]*)"/y;

/** An AWS secret key: the value after a label at [start, end). The raw pre-check stops at the label. */
function awsSecret(s: string, start: number, end: number, raw: boolean): Found | undefined {
  if (raw) return found('aws_secret_key', start, end);
  const e = stickyEnd(AWS_SECRET_VALUE, s, end);
  return e > 0 && rightEdge(s, e, isTokenOrSlash) ? found('aws_secret_key', e - 40, e) : undefined;
}

const awsAndGoogle: Probe = {
  anchor: 'A',
  kinds: ['aws_access_key', 'google_api_key', 'aws_secret_key'],
  at(s, i, raw, want) {
    const c = s.charCodeAt(i + 1);
    if ((c === 75 || c === 83) && want.has('aws_access_key') && s.startsWith('IA', i + 2)) {
      const e = stickyEnd(AWS_KEY_ID, s, i);
      if (e > 0 && leftEdge(s, i, raw, isAlnum) && rightEdge(s, e, isAlnum)) return found('aws_access_key', i, e);
    } else if (c === 73 && want.has('google_api_key') && s.startsWith('za', i + 2)) {
      const e = stickyEnd(GOOGLE_KEY, s, i);
      if (e > 0 && leftEdge(s, i, raw, isToken) && rightEdge(s, e, isToken)) return found('google_api_key', i, e);
    } else if (c === 99 && i >= 6 && want.has('aws_secret_key') && s.startsWith('ccessKey', i + 1) && /^[Ss]ecret$/.test(s.slice(i - 6, i))) {
      // secretAccessKey (SDK config), SecretAccessKey (STS output)
      return awsSecret(s, i - 6, i + 9, raw);
    }
    return undefined;
  },
};

const underscore: Probe = {
  anchor: '_',
  kinds: ['github_token', 'gatehouse_key', 'stripe_key', 'aws_secret_key', 'gcp_service_account'],
  at(s, i, raw, want) {
    const c1 = s.charCodeAt(i - 1);
    const c2 = s.charCodeAt(i - 2);
    if (c2 === 104 && s.charCodeAt(i - 3) === 103 && leftEdge(s, i - 3, raw, isAlnum)) {
      // gh?_: GitHub's ghp_ gho_ ghu_ ghs_ ghr_, and Gatehouse's own ghk_
      if (c1 === 107 && want.has('gatehouse_key')) {
        const e = stickyEnd(GATEHOUSE_BODY, s, i + 1);
        if (e > 0 && rightEdge(s, e, isAlnum)) return found('gatehouse_key', i - 3, e);
      } else if ('pousr'.includes(s[i - 1]!) && want.has('github_token')) {
        const e = stickyEnd(GITHUB_BODY, s, i + 1);
        if (e > 0 && rightEdge(s, e, isAlnum)) return found('github_token', i - 3, e);
      }
    }
    if (c1 === 98 && i >= 6 && want.has('github_token') && s.startsWith('github', i - 6) && s.startsWith('pat_', i + 1) && leftEdge(s, i - 6, raw, isAlnum)) {
      const e = stickyEnd(GITHUB_PAT_BODY, s, i + 5);
      if (e > 0 && rightEdge(s, e, isWord)) return found('github_token', i - 6, e);
    }
    if (c1 === 107 && (c2 === 115 || c2 === 114) && want.has('stripe_key') && s.startsWith('live_', i + 1) && leftEdge(s, i - 2, raw, isAlnum)) {
      const e = stickyEnd(STRIPE_BODY, s, i + 6);
      if (e > 0 && rightEdge(s, e, isAlnum)) return found('stripe_key', i - 2, e);
    }
    if ((c1 | 32) === 116 && i >= 6 && want.has('aws_secret_key')) {
      // aws_secret_access_key, AWS_SECRET_ACCESS_KEY, secret_access_key, aws_secret_key
      const e = stickyEnd(SNAKE_LABEL, s, i - 6);
      const access = e > 0 && e - i > 4;
      if (e > 0 && (access || s.slice(i - 10, i - 6).toLowerCase() === 'aws_') && rightEdge(s, e, isWord)) return awsSecret(s, i - 6, e, raw);
    }
    if (c1 === 101 && i >= 7 && want.has('gcp_service_account') && s.startsWith('private', i - 7) && s.startsWith('key', i + 1)) {
      return gcpField(s, i - 7, raw);
    }
    return undefined;
  },
};

/** private_key_id or private_key of a service-account JSON: the value is what leaks. */
function gcpField(s: string, start: number, raw: boolean): Found | undefined {
  // In the JSON text the field's quotes are escaped, and "service_account" may be in another
  // chunk: the field's name is enough for the pre-check.
  if (raw) return found('gcp_service_account', start, start + 11);
  if (!s.includes('service_account')) return undefined;
  GCP_FIELD.lastIndex = start;
  const m = GCP_FIELD.exec(s);
  if (!m) return undefined;
  const value = m[2]!;
  const ok = m[1] ? /^[0-9a-f]{40}$/.test(value) : value.includes('PRIVATE KEY');
  const end = GCP_FIELD.lastIndex - 1;
  return ok ? found('gcp_service_account', end - value.length, end) : undefined;
}

const skDash: Probe = {
  anchor: 'k-',
  kinds: ['anthropic_key', 'openai_key'],
  at(s, i, raw, want) {
    if (s.charCodeAt(i - 1) !== 115 || !leftEdge(s, i - 1, raw, isToken)) return undefined;
    const anthropic = s.startsWith('ant-', i + 2);
    const kind: SecretKind = anthropic ? 'anthropic_key' : 'openai_key';
    if (!want.has(kind)) return undefined;
    const e = stickyEnd(anthropic ? ANTHROPIC : OPENAI, s, i - 1);
    return e > 0 && rightEdge(s, e, isToken) ? found(kind, i - 1, e) : undefined;
  },
};

const slack: Probe = {
  anchor: 'xox',
  kinds: ['slack_token'],
  at(s, i, raw) {
    if (!leftEdge(s, i, raw, isAlnum)) return undefined;
    const e = stickyEnd(SLACK, s, i);
    return e > 0 && rightEdge(s, e, isAlnumOrDash) ? found('slack_token', i, e) : undefined;
  },
};

const jwt: Probe = {
  // "eyJ" starts every JWT (base64url of `{"`); "e" is too common a first character to search for.
  anchor: 'yJ',
  kinds: ['jwt'],
  at(s, i, raw) {
    if (s.charCodeAt(i - 1) !== 101 || !leftEdge(s, i - 1, raw, isToken)) return undefined;
    const e = stickyEnd(raw ? JWT_HEAD : JWT, s, i - 1);
    return e > 0 && (raw || rightEdge(s, e, isToken)) ? found('jwt', i - 1, e) : undefined;
  },
};

const pem: Probe = {
  anchor: 'VATE',
  kinds: ['private_key'],
  at(s, i, raw) {
    if (!s.startsWith('PRI', i - 3) || !s.startsWith(' KEY', i + 4)) return undefined;
    // "-----BEGIN " then nothing, or one of the key types (a bounded look, not a lastIndexOf).
    const k = [14, 17, 18, 22, 24].map((d) => i - d).find((k) => k >= 0 && s.startsWith('-----BEGIN ', k));
    const e = k === undefined ? -1 : stickyEnd(PEM_HEAD, s, k);
    if (k === undefined || e < 0) return undefined;
    if (raw) return found('private_key', k, e);
    // The whole block up to its END line; or, pasted without one, the base64 that follows.
    const endLine = s.indexOf('-----END ', e);
    const close = endLine === -1 ? -1 : s.indexOf('-----', endLine + 9);
    if (close !== -1 && close - e < 20_000) return found('private_key', k, close + 5);
    return found('private_key', k, stickyEnd(PEM_BODY, s, e));
  },
};

const PROBES: readonly Probe[] = [awsAndGoogle, underscore, skDash, slack, jwt, pem];

export function secretsScan(kinds: readonly SecretKind[]): ScanFn {
  const want: ReadonlySet<SecretKind> = new Set(kinds);
  const probes = PROBES.filter((p) => p.kinds.some((k) => want.has(k)));
  return (s, raw, on) => {
    for (const p of probes) {
      let stop = false;
      eachIndex(s, p.anchor, (i) => {
        const f = p.at(s, i, raw, want);
        if (!f) return i + 1;
        stop = on(f.kind, f.start, f.end) === true;
        return stop ? STOP : f.end;
      });
      if (stop) return;
    }
  };
}
