import { METADATA_HEADER, type Header } from './headers.js';
import { redact } from './io.js';

/**
 * What Claude Desktop and Claude for Office need to use the gateway, as text to paste, in the
 * seeds' words: Desktop's "Configure third-party inference" → Gateway (base URL, API key, auth
 * scheme bearer, extra headers); the Office add-ins' "Enterprise gateway" sign-in (Gateway URL
 * and API token only: they have no extra headers, so metadata must sit on the key).
 */

export type SetupTarget = 'desktop' | 'office';

export interface SetupInput {
  url: string;
  key: string;
  /** x-portkey-metadata (from the filled template) and the profile's other headers. */
  headers: readonly Header[];
}

export interface SetupText {
  text: string;
  /** For the notification: what was copied, the key redacted (the text itself is never logged). */
  summary: string;
}

export function setupHeaders(metadata: Readonly<Record<string, string>>, profileHeaders: Readonly<Record<string, string>>): Header[] {
  const out: Header[] = [];
  if (Object.keys(metadata).length) out.push({ name: METADATA_HEADER, value: JSON.stringify(metadata) });
  for (const [name, value] of Object.entries(profileHeaders)) out.push({ name, value });
  return out;
}

export function composeSetup(target: SetupTarget, s: SetupInput): SetupText {
  if (target === 'desktop') {
    const lines = [
      'Claude Desktop: Help → Troubleshooting → Enable Developer mode, then Developer → Configure third-party inference → Gateway (Anthropic-compatible):',
      '',
      `Gateway base URL: ${s.url}`,
      `Gateway API key: ${s.key}`,
      'Gateway auth scheme: bearer',
    ];
    if (s.headers.length) {
      lines.push('', 'Gateway extra headers:');
      for (const h of s.headers) lines.push(`  Header name: ${h.name}`, `  Header value: ${h.value}`);
    }
    lines.push('', 'Click "Apply locally", then fully quit Claude Desktop (not just close the window) and reopen it.');
    const extra = s.headers.length ? `, ${s.headers.map((h) => h.name).join(', ')}` : '';
    return { text: lines.join('\n'), summary: `Copied the Claude Desktop setup: base URL ${s.url}, key ${redact(s.key)}, auth scheme bearer${extra}.` };
  }
  const lines = [
    'Claude for Excel / PowerPoint: on the sign-in screen choose "Enterprise gateway":',
    '',
    `Gateway URL: ${s.url}`,
    `API token: ${s.key}`,
    '',
    'Then click "Test connection": it checks the gateway and lists the models your key may use.',
  ];
  if (s.headers.length) {
    lines.push('', `The add-ins send no extra headers, so ${s.headers.map((h) => h.name).join(', ')} cannot be set here: ask your platform admin to put that metadata on the key.`);
  }
  return { text: lines.join('\n'), summary: `Copied the Claude for Office setup: gateway URL ${s.url}, API token ${redact(s.key)}.` };
}
