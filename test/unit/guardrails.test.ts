// The guardrails engine as the gateway uses it: definitions parsed by the config schema, then
// run on request bodies. Every detector case runs twice, once with the engine's own pre-check
// on the JSON text and once on a body the caller parsed, and both must report the same.
import { describe, expect, it } from 'vitest';
import { compileGuardrails, type GuardrailOutcome } from '../../gateway/src/governance/guardrails/engine.js';
import { rawSafeSource, requiredLiteral } from '../../gateway/src/governance/guardrails/pattern.js';
import { GuardrailSchema } from '../../gateway/src/governance/guardrails/schema.js';

// Test secrets are assembled at run time so the file itself holds nothing a secret scanner flags.
const j = (...parts: string[]) => parts.join('');
const ALNUM = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG2hJ4kL6mN8pQ0rS2tU4vW6xY8z';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GITHUB = j('gh', 'p_', ALNUM.slice(0, 36));
const GITHUB_PAT = j('github', '_pat_', '11ABCDEFG0', ALNUM.slice(0, 12), '_', ALNUM.slice(0, 59));
const SLACK = j('xo', 'xb-', '123456789012-1234567890123-', ALNUM.slice(0, 24));
const ANTHROPIC = j('sk-', 'ant-', 'api03-', ALNUM.slice(0, 60), 'AA');
const OPENAI = j('sk-', 'proj-', ALNUM.slice(0, 48));
const STRIPE = j('sk', '_live_', ALNUM.slice(0, 24));
const GOOGLE = j('AI', 'za', ALNUM.slice(0, 35));
const JWT = j('eyJ', 'hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c');
const GATEHOUSE = j('gh', 'k_', ALNUM.slice(0, 43));
const PEM = j('-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA ', 'PRIVATE KEY-----');
const GCP_JSON = JSON.stringify({ type: 'service_account', project_id: 'demo', private_key_id: 'a'.repeat(20) + '0123456789abcdef0123', client_email: 'svc@demo.iam.gserviceaccount.com' }, null, 2);

type Def = Record<string, unknown>;

function compile(defs: Record<string, Def>) {
  return compileGuardrails(Object.entries(defs).map(([id, d]) => ({ id, def: GuardrailSchema.parse(d) })));
}

/** Runs on the raw body and on a body the caller parsed; both must agree. */
function run(defs: Record<string, Def>, body: unknown, extra: { model?: string; metadata?: Record<string, string> } = {}): GuardrailOutcome {
  const rails = compile(defs);
  const buf = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const model = extra.model ?? 'claude-sonnet-4-5';
  const metadata = extra.metadata ?? {};
  const fromBytes = rails.run({ body: buf, model, metadata });
  const fromParsed = rails.run({ body: buf, parsed: JSON.parse(buf.toString()), model, metadata });
  expect(fromParsed).toEqual(fromBytes);
  return fromBytes;
}

const msg = (content: unknown) => ({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content }] });

/** The kinds a detector flags in one text. */
function kinds(def: Def, text: string): string[] {
  return run({ g: { ...def, action: 'flag' } }, msg(text)).verdicts[0]!.findings.map((f) => f.kind);
}

describe('secrets', () => {
  const secrets = { type: 'secrets' };
  it.each([
    ['aws_access_key', `aws_access_key_id = ${AWS_KEY}`],
    ['aws_access_key', 'session key ASIAY34FZKBOKMUTVV7A in the env'],
    ['aws_secret_key', `aws_secret_access_key = ${AWS_SECRET}`],
    ['aws_secret_key', `export AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"`],
    ['aws_secret_key', `{"SecretAccessKey": "${AWS_SECRET}"}`],
    ['gcp_service_account', GCP_JSON],
    ['private_key', `key:\n${PEM}\n`],
    ['github_token', `token: ${GITHUB}`],
    ['github_token', `GH_TOKEN=${GITHUB_PAT}`],
    ['slack_token', `SLACK_BOT_TOKEN=${SLACK}`],
    ['anthropic_key', `ANTHROPIC_API_KEY=${ANTHROPIC}`],
    ['openai_key', `OPENAI_API_KEY=${OPENAI}`],
    ['stripe_key', `stripe.api_key = "${STRIPE}"`],
    ['google_api_key', `?key=${GOOGLE}&q=1`],
    ['jwt', `Authorization: Bearer ${JWT}`],
    ['gatehouse_key', `ANTHROPIC_AUTH_TOKEN=${GATEHOUSE}`],
  ])('finds %s', (kind, text) => {
    expect(kinds(secrets, text)).toEqual([kind]);
  });

  it.each([
    ['a UUID', 'request 5bf1f464-3a19-4514-8b26-e1196421fe01 done'],
    ['a git SHA', 'commit 3f9a1c7e2b8d4f6a0c5e9b1d7f3a2c8e6b4d0f1a'],
    ['an npm integrity hash', 'integrity sha512-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a version string', 'claude-cli/2.1.330 (external, sdk-cli) node v20.19.0'],
    ['a timestamp', '2025-03-14T09:26:53.589Z'],
    ['a public key', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----'],
    ['a short prefix', 'the ghp_ prefix and AKIA prefix and sk-ant- prefix are documented'],
    ['an identifier ending in sk', 'const task-sk-handler = desk-sk-2;'],
    ['a secret label without a value', 'set aws_secret_access_key in ~/.aws/credentials'],
  ])('ignores %s', (_what, text) => {
    expect(kinds(secrets, text)).toEqual([]);
  });

  it('limits itself to the kinds asked for', () => {
    expect(kinds({ type: 'secrets', kinds: ['jwt'] }, `${AWS_KEY} ${JWT}`)).toEqual(['jwt']);
  });

  it('does not read image data, signatures or redacted thinking', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: `iVBORw0K${AWS_KEY}GgoAAAANSUhEUg` } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'plan', signature: `${AWS_KEY}Eq` }, { type: 'redacted_thinking', data: AWS_KEY }] },
      ],
    };
    expect(run({ s: { type: 'secrets' } }, body).verdicts[0]!.matched).toBe(false);
  });
});

describe('pii', () => {
  it.each([
    ['email', 'write to jane.doe+gw@example.co.uk today'],
    ['phone', 'call +1 415 555 2671'],
    ['phone', 'call (415) 555-2671'],
    ['phone', 'call 415.555.2671'],
    ['phone', 'ring +44 20 7946 0958'],
    ['phone', 'ring 020 7946 0958'],
    ['phone', 'appelle 06 12 34 56 78'],
    ['phone', 'ruf +4930123456 an'],
    ['card', 'card 4111 1111 1111 1111 exp 12/29'],
    ['card', 'card 4111-1111-1111-1111'],
    ['card', 'amex 378282246310005.'],
    ['card', 'card 5555555555554444 123'],
    ['iban', 'IBAN DE89 3704 0044 0532 0130 00'],
    ['iban', 'iban=GB29NWBK60161331926819'],
    ['us_ssn', 'SSN 123-45-6789'],
    ['uk_nino', 'NI number AB 12 34 56 C'],
    ['uk_nino', 'NI number AB123456C'],
  ])('finds %s in "%s"', (kind, text) => {
    expect(kinds({ type: 'pii' }, text)).toEqual([kind]);
  });

  it.each([
    ['a Luhn-invalid 16-digit number', 'order 4111 1111 1111 1112'],
    ['a plain long integer', 'id 1234567890123456 and 12345678901'],
    ['epoch milliseconds', 'ts=1741944413000'],
    ['a float', 'x = 0.30000000000000004'],
    ['an IBAN with a bad checksum', 'IBAN DE89 3704 0044 0532 0130 01'],
    ['invalid SSNs', '000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000'],
    ['NINO-like ids', 'GB123456A AB123456E QQ123456C'],
    ['dates and times', '2025-03-14 09:26:53 2025-03-14T09:26:53.589+01:00 14.03.2025 03/14/2025'],
    ['versions and IPs', 'v1.2.3 node 20.19.0 10.0.123.45:443 192.168.100.200'],
    ['a UUID and a git SHA', '5bf1f464-3a19-4514-8b26-e1196421fe01 3f9a1c7e2b8d4f6a0c5e9b1d7f3a2c8e6b4d0f1a'],
    ['package names and decorators', 'npm i @anthropic-ai/sdk lodash@4.17.21; @Injectable() class A {}'],
    ['asset names and SSH remotes', 'icon@2x.png git@github.com:acme/repo.git user@localhost'],
  ])('ignores %s', (_what, text) => {
    expect(kinds({ type: 'pii' }, text)).toEqual([]);
  });
});

describe('blocked words and regex', () => {
  const words = { type: 'blocked_words', words: ['Project Falcon', 'confidential', 'NDA'] };
  it('matches whole words in any case', () => {
    expect(kinds(words, 'This is CONFIDENTIAL.')).toEqual(['blocked_word']);
    expect(kinds(words, 'about project   falcon')).toEqual([]);
    expect(kinds(words, 'status of project falcon?')).toEqual(['blocked_word']);
    expect(kinds(words, 'sign the nDa first')).toEqual(['blocked_word']);
    expect(kinds(words, 'confidentiality and agenda items')).toEqual([]);
    expect(kinds(words, 'line one\nConfidential\tline two')).toEqual(['blocked_word']);
  });

  it('runs the pattern with the flags given', () => {
    const re = { type: 'regex', pattern: '\\bCUST-[0-9]{6,}\\b', flags: 'i' };
    expect(kinds(re, 'see cust-001234 and CUST-99')).toEqual(['regex']);
    expect(kinds(re, 'XCUST-001234')).toEqual([]);
  });

  it('finds the literal every match holds, or none when it cannot be sure', () => {
    expect(requiredLiteral('\\bCUST-[0-9]{6,}\\b')).toBe('CUST-');
    expect(requiredLiteral('(?:x|y)HELLO')).toBe('HELLO');
    expect(requiredLiteral('foo\\.bar')).toBe('foo.bar');
    expect(requiredLiteral('api[_-]?key=')).toBe('key=');
    for (const none of ['X{10}', 'a|bcd', '\\x41BC', 'q?']) expect(requiredLiteral(none)).toBe('');
  });

  it('knows which patterns can pre-check the JSON text', () => {
    expect(rawSafeSource('\\bCUST-[0-9]{6,}\\b')).toBe('(?:)CUST-[0-9]{6,}(?:)');
    expect(rawSafeSource('(?<tag>acme|corp)-\\d+(?=x)')).toBe('(?<tag>acme|corp)-\\d+(?=x)');
    for (const unsafe of ['a.b', '^acme', 'a\\sb', '[^x]', '[ -~]+', 'a\\/b', '"q"', '(?<!x)y', 'a\\Bb', '\\x41']) expect(rawSafeSource(unsafe)).toBeUndefined();
  });
});

describe('where findings are', () => {
  const body = {
    model: 'claude-sonnet-4-5',
    system: [{ type: 'text', text: 'You are helpful.' }, { type: 'text', text: 'x' }, { type: 'text', text: 'Escalate to ops@example.com.' }],
    messages: [
      { role: 'user', content: 'mail me at a@example.com' },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }, { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls', env: { 'MAIL TO': 'b@example.com' }, argv: ['-x', 'c@example.com'] } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'no' }, { type: 'text', text: 'd@example.com' }] }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't2', content: 'e@example.com' }, { type: 'thinking', thinking: 'f@example.com' }] },
      { role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'g@example.com' } }] },
    ],
  };

  it('reports a JSON path for each text, in order', () => {
    const paths = run({ pii: { type: 'pii', action: 'flag' } }, body).verdicts[0]!.findings.map((f) => f.path);
    expect(paths).toEqual([
      'system[2].text',
      'messages[0].content',
      'messages[1].content[1].input.env["MAIL TO"]',
      'messages[1].content[1].input.argv[1]',
      'messages[2].content[0].content[1].text',
      'messages[3].content[0].content',
      'messages[3].content[1].thinking',
      'messages[4].content[0].source.data',
    ]);
    expect(run({ pii: { type: 'pii', action: 'flag' } }, { ...body, system: 'ops@example.com', messages: [] }).verdicts[0]!.findings).toEqual([
      { kind: 'email', path: 'system', count: 1 },
    ]);
  });
});

describe('deny', () => {
  const body = msg([{ type: 'text', text: 'hello' }]);
  body.messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: `[default]\naws_access_key_id = ${AWS_KEY}\naws_secret_access_key = ${AWS_SECRET}\n` }] }] });

  it('stops the run and says which guardrail, what kind and where, never the secret', () => {
    const out = run({ 'no-secrets': { type: 'secrets' }, later: { type: 'pii' } }, body);
    expect(out.denied).toEqual({
      id: 'no-secrets',
      kind: 'aws_access_key',
      path: 'messages[1].content[0].content[0].text',
      message:
        'Guardrail "no-secrets" (secrets) blocked this request: an AWS access key was found at messages[1].content[0].content[0].text (2 findings in all). Remove it and send again.',
    });
    expect(out.verdicts.map((v) => v.id)).toEqual(['no-secrets']);
    expect(out.verdicts[0]!.findings).toEqual([
      { kind: 'aws_access_key', path: 'messages[1].content[0].content[0].text', count: 1 },
      { kind: 'aws_secret_key', path: 'messages[1].content[0].content[0].text', count: 1 },
    ]);
    const all = JSON.stringify(out);
    for (const part of [AWS_KEY, AWS_KEY.slice(0, 8), AWS_KEY.slice(-8), AWS_SECRET.slice(0, 8), AWS_SECRET.slice(-8)]) expect(all).not.toContain(part);
    expect(out.redactedBody).toBeUndefined();
  });

  it('finds a secret the client wrote with \\u escapes', () => {
    const raw = `{"model":"m","messages":[{"role":"user","content":"key \\u0041KIAIOSFODNN7EXAMPLE"}]}`;
    expect(run({ s: { type: 'secrets' } }, raw).denied?.kind).toBe('aws_access_key');
  });
});

describe('redact and flag', () => {
  const body = {
    model: 'claude-sonnet-4-5',
    max_tokens: 64,
    system: [{ type: 'text', text: 'Support agent for jane.doe@example.com.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Charge 4111 1111 1111 1111 and mail bob@example.org' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
    ],
    tools: [{ name: 'mail', description: 'Sends mail to x@example.com', input_schema: { type: 'object' } }],
    stream: true,
  };

  it('replaces each match and leaves everything else as it was', () => {
    const out = run({ pii: { type: 'pii', action: 'redact' } }, body);
    expect(out.denied).toBeUndefined();
    expect(out.verdicts[0]).toMatchObject({ id: 'pii', action: 'redact', matched: true });
    const sent = JSON.parse(out.redactedBody!.toString()) as typeof body;
    const expected = structuredClone(body);
    expected.system[0]!.text = 'Support agent for [REDACTED:email].';
    expected.messages[0]!.content[0] = { type: 'text', text: 'Charge [REDACTED:card] and mail [REDACTED:email]' };
    expect(sent).toEqual(expected);
  });

  it('never changes the parsed body it is given', () => {
    const parsed = JSON.parse(JSON.stringify(body)) as unknown;
    const before = JSON.stringify(parsed);
    compile({ pii: { type: 'pii', action: 'redact' } }).run({ body: Buffer.from(before), parsed, model: 'm', metadata: {} });
    expect(JSON.stringify(parsed)).toBe(before);
  });

  it('flags without changing the body', () => {
    const out = run({ pii: { type: 'pii', action: 'flag' } }, body);
    expect(out.redactedBody).toBeUndefined();
    expect(out.verdicts[0]!.findings).toEqual([
      { kind: 'email', path: 'system[0].text', count: 1 },
      { kind: 'card', path: 'messages[0].content[0].text', count: 1 },
      { kind: 'email', path: 'messages[0].content[0].text', count: 1 },
    ]);
  });

  it('runs in order: a deny after a redact no longer sees what was redacted', () => {
    const secret = msg(`my key is ${AWS_KEY}`);
    const redactFirst = run({ scrub: { type: 'secrets', action: 'redact' }, block: { type: 'secrets' } }, secret);
    expect(redactFirst.denied).toBeUndefined();
    expect(redactFirst.verdicts.map((v) => [v.id, v.matched])).toEqual([['scrub', true], ['block', false]]);
    expect(JSON.parse(redactFirst.redactedBody!.toString()).messages[0].content).toBe('my key is [REDACTED:aws_access_key]');
    const denyFirst = run({ block: { type: 'secrets' }, scrub: { type: 'secrets', action: 'redact' } }, secret);
    expect(denyFirst.denied?.id).toBe('block');
    expect(denyFirst.verdicts).toHaveLength(1);
  });
});

describe('request checks', () => {
  it('allowed_models matches * wildcards', () => {
    const rails = { models: { type: 'allowed_models', models: ['claude-sonnet-*', 'claude-haiku-4-5'] } };
    expect(run(rails, msg('hi'), { model: 'claude-sonnet-4-5-20250929' }).denied).toBeUndefined();
    expect(run(rails, msg('hi'), { model: 'claude-haiku-4-5' }).denied).toBeUndefined();
    expect(run(rails, msg('hi'), { model: 'claude-haiku-4-5-x' }).denied?.message).toBe(
      'Guardrail "models" (allowed_models) blocked this request: the model "claude-haiku-4-5-x" is not allowed here (allowed: claude-sonnet-*, claude-haiku-4-5). Use an allowed model and send again.',
    );
    expect(run({ models: { ...rails.models, action: 'flag' } }, msg('hi'), { model: 'claude-opus-4-1' }).verdicts[0]).toMatchObject({ matched: true, findings: [{ kind: 'model', path: 'model', count: 1 }] });
  });

  it('max_input_tokens estimates UTF-8 bytes / 4 of the texts', () => {
    const body = msg('é'.repeat(200)); // 400 bytes: 100 tokens
    expect(run({ t: { type: 'max_input_tokens', max: 100 } }, body).denied).toBeUndefined();
    const over = run({ t: { type: 'max_input_tokens', max: 99 } }, body);
    expect(over.denied?.message).toMatch(/about 100 input tokens .* more than the 99 allowed/);
    expect(over.denied?.path).toBe('messages');
    // Tool definitions are not the conversation's text: a large tools array does not count.
    const tools = [{ name: 'big', description: 'x'.repeat(10_000), input_schema: { type: 'object' } }];
    expect(run({ t: { type: 'max_input_tokens', max: 100 } }, { ...body, tools }).denied).toBeUndefined();
  });

  it('required_metadata wants each key with a value', () => {
    const rails = { meta: { type: 'required_metadata', keys: ['team', 'ticket'] } };
    expect(run(rails, msg('hi'), { metadata: { team: 'infra', ticket: 'OPS-1' } }).denied).toBeUndefined();
    const out = run(rails, msg('hi'), { metadata: { team: '' } });
    expect(out.verdicts[0]!.findings.map((f) => f.path)).toEqual(['metadata.team', 'metadata.ticket']);
    expect(out.denied?.message).toContain('the request metadata has no "team", "ticket"');
  });
});

describe('schema', () => {
  const issues = (d: unknown) => {
    const r = GuardrailSchema.safeParse(d);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('fills defaults and accepts each type', () => {
    expect(GuardrailSchema.parse({ type: 'secrets' })).toEqual({ type: 'secrets', action: 'deny' });
    expect(GuardrailSchema.parse({ type: 'regex', pattern: 'a+', flags: 'iu', action: 'flag', name: 'As' })).toMatchObject({ action: 'flag', name: 'As' });
  });

  it('explains what is wrong', () => {
    expect(issues({ type: 'regex', pattern: '(unclosed' })[0]).toMatch(/^pattern: not a valid JavaScript regular expression/);
    expect(issues({ type: 'regex', pattern: 'a*' })).toEqual(['pattern: the pattern matches the empty string; it must match at least one character']);
    expect(issues({ type: 'regex', pattern: 'a', flags: 'g' })).toEqual(['flags: flags may only contain i, m, s and u']);
    expect(issues({ type: 'pii', kinds: ['email', 'passport'] })).toEqual(['kinds.1: must be one of: email, phone, card, iban, us_ssn, uk_nino']);
    expect(issues({ type: 'secrets', kinds: ['aws'] })[0]).toMatch(/^kinds\.0: must be one of: aws_access_key, aws_secret_key/);
    expect(issues({ type: 'allowed_models', models: ['x'], action: 'redact' })[0]).toMatch(/^action: action must be "deny" or "flag"/);
    expect(issues({ type: 'blocked_words', words: [] })[0]).toMatch(/^words:/);
    expect(issues({ type: 'nope' })[0]).toMatch(/^type: type must be one of: "regex", "secrets"/);
    expect(issues({ type: 'secrets', extra: 1 })[0]).toMatch(/Unrecognized key/);
  });
});

describe('the JSON-text pre-check never misses', () => {
  // Whatever sits around a match in a text (an escaped newline, tab, quote, backslash, an ANSI
  // escape), the run on the raw body must find exactly what the run on the parsed body finds.
  const values = [AWS_KEY, GITHUB, JWT, 'ops@example.com', '4111 1111 1111 1111', '+44 20 7946 0958', 'DE89 3704 0044 0532 0130 00', 'AB123456C', 'confidential', 'CUST-123456'];
  const around = ['\n', '\t', '"', '\\', '\u001b', ' ', '(', '\u2028'];
  const defs = { s: { type: 'secrets', action: 'flag' }, p: { type: 'pii', action: 'flag' }, w: { type: 'blocked_words', words: ['confidential'], action: 'flag' }, r: { type: 'regex', pattern: '\\bCUST-\\d{6}\\b', action: 'flag' } };

  it('finds each value whatever comes before and after it', () => {
    for (const v of values) {
      for (const before of around) {
        for (const after of around) {
          const out = run(defs, msg(`x${before}${v}${after}y`));
          expect(out.verdicts.filter((x) => x.matched).length, JSON.stringify([before, v, after])).toBeGreaterThan(0);
        }
      }
    }
  });

  it('reads a large body in overlapping chunks and misses nothing at their edges', () => {
    const filler = 'Plain words, é€😀 and more words.\n'.repeat(6000);
    const prefix = Buffer.byteLength('{"model":"m","messages":[{"role":"user","content":"');
    for (const v of [AWS_KEY, JWT, 'ops@example.com', '4111 1111 1111 1111', 'confidential', 'CUST-123456']) {
      for (const at of [65_536 - 40, 65_536 - 3, 65_536, 65_536 + 10, 131_072 - 8]) {
        // Multi-byte characters and escapes up to near the offset, then ASCII to land on it exactly.
        const perChar = Buffer.byteLength(JSON.stringify(filler)) / filler.length;
        let head = filler.slice(0, Math.floor((at - prefix - 300) / perChar));
        head += `${'x'.repeat(at - prefix - (Buffer.byteLength(JSON.stringify(head)) - 2) - 1)} `;
        const body = { model: 'm', messages: [{ role: 'user', content: `${head}${v} ${filler}` }] };
        expect(Buffer.from(JSON.stringify(body)).indexOf(v)).toBe(at);
        expect(run(defs, body).verdicts.some((x) => x.matched), `${v} at ${at}`).toBe(true);
      }
    }
  });

  it('stays right after a parse and after a rewrite', () => {
    const body = msg(`mail ops@example.com, key ${AWS_KEY}, project falcon`);
    const out = run(
      {
        mails: { type: 'pii', kinds: ['email'], action: 'flag' },
        words: { type: 'blocked_words', words: ['project falcon'], action: 'flag' },
        scrub: { type: 'secrets', action: 'redact' },
        marker: { type: 'blocked_words', words: ['redacted'], action: 'flag' },
      },
      body,
    );
    expect(out.verdicts.map((v) => [v.id, v.matched])).toEqual([['mails', true], ['words', true], ['scrub', true], ['marker', true]]);
  });

  it('agrees with the parsed run when a letter, digit or escape-looking text touches the value', () => {
    for (const v of values) for (const c of ['é', 'Z', '7', '_', 'n', '\\n', '\\u0041']) [`${c}${v}`, `${v}${c}`, `\n${c}${v}`].forEach((t) => run(defs, msg(t)));
  });
});
