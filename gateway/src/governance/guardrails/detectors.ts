import { pattern } from './pattern.js';
import { piiScan } from './pii.js';
import { PII_KINDS, SECRET_KINDS, type GuardrailDef } from './schema.js';
import type { Detector, OnMatch, RawBody, ScanFn } from './scan.js';
import { secretsScan } from './secrets.js';
import { blockedWords } from './words.js';

export type { Detector, OnMatch, RawBody } from './scan.js';

/** The pre-check of a detector whose scan supports the raw mode: any match in any chunk. */
function anyRaw(scan: ScanFn): (body: RawBody) => boolean {
  return (body) =>
    body.chunks.some((chunk) => {
      let hit = false;
      scan(chunk, true, () => (hit = true));
      return hit;
    });
}

const textScan = (scan: ScanFn) => (text: string, on: OnMatch) => scan(text, false, on);

type ContentDef = Extract<GuardrailDef, { type: 'regex' | 'secrets' | 'pii' | 'blocked_words' }>;

export function isContentDef(def: GuardrailDef): def is ContentDef {
  return def.type === 'regex' || def.type === 'secrets' || def.type === 'pii' || def.type === 'blocked_words';
}

export function detectorFor(def: ContentDef): Detector {
  switch (def.type) {
    case 'secrets': {
      const scan = secretsScan(def.kinds ?? SECRET_KINDS);
      return { scan: textScan(scan), precheck: anyRaw(scan) };
    }
    case 'pii': {
      const scan = piiScan(def.kinds ?? PII_KINDS);
      return { scan: textScan(scan), precheck: anyRaw(scan) };
    }
    case 'blocked_words':
      return blockedWords(def.words);
    case 'regex':
      return pattern(def.pattern, def.flags ?? '');
  }
}

/** How a finding reads in a message: what was found, never the text itself. */
const KIND_TEXT: Record<string, string> = {
  aws_access_key: 'an AWS access key',
  aws_secret_key: 'an AWS secret access key',
  gcp_service_account: 'a Google Cloud service account key',
  private_key: 'a private key',
  github_token: 'a GitHub token',
  slack_token: 'a Slack token',
  anthropic_key: 'an Anthropic API key',
  openai_key: 'an OpenAI API key',
  stripe_key: 'a Stripe live key',
  google_api_key: 'a Google API key',
  jwt: 'a JSON Web Token',
  gatehouse_key: 'a Gatehouse key',
  email: 'an email address',
  phone: 'a phone number',
  card: 'a payment card number',
  iban: 'an IBAN',
  us_ssn: 'a US social security number',
  uk_nino: 'a UK national insurance number',
  blocked_word: 'a blocked word',
  regex: 'text matching the guardrail pattern',
};

export function describeKind(kind: string): string {
  return KIND_TEXT[kind] ?? kind;
}
