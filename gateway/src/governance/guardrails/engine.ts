import { describeKind, detectorFor, isContentDef, type Detector, type OnMatch } from './detectors.js';
import type { GuardrailDef } from './schema.js';
import { RequestTexts } from './request-texts.js';
import { pathOf, readText } from './texts.js';

/**
 * Guardrails compiled once per list and run on each request, in order. A deny that matches
 * stops the run; a redact rewrites the texts, and the guardrails after it see the new texts; a
 * flag only records. Findings and messages say what kind of thing was found and where (a JSON
 * path), never the text.
 *
 * Speed: most requests match nothing, so a content guardrail first scans the body's JSON text
 * (scan.ts explains why that never misses) and the body is parsed only when that scan finds
 * something: a 500 KB Claude Code request that matches nothing is never parsed.
 */

export type GuardrailAction = 'deny' | 'redact' | 'flag';

export interface GuardrailFinding {
  kind: string;
  path: string;
  count: number;
}

export interface GuardrailVerdict {
  id: string;
  name?: string;
  type: string;
  action: GuardrailAction;
  matched: boolean;
  findings: GuardrailFinding[];
}

export interface GuardrailOutcome {
  /** One per guardrail that ran, in order (matched or not). */
  verdicts: GuardrailVerdict[];
  /** The first deny that matched; the guardrails after it did not run. */
  denied?: { id: string; name?: string; kind: string; path: string; message: string };
  /** Set when a redact guardrail matched: the whole new request body. */
  redactedBody?: Buffer;
}

export interface GuardrailInput {
  body: Buffer;
  /** The body already parsed, if the caller has it; it is never modified. */
  parsed?: unknown;
  model: string | undefined;
  metadata: Readonly<Record<string, string>>;
}

export interface CompiledGuardrails {
  readonly ids: readonly string[];
  run(input: GuardrailInput): GuardrailOutcome;
}

interface Rail {
  id: string;
  name: string | undefined;
  def: GuardrailDef;
  /** The longest match its pre-check looks for (0: the default). */
  reach: number;
  /** The findings (none: not matched), and what a deny's message says was wrong and what to do. */
  check(req: RequestTexts, input: GuardrailInput): { findings: GuardrailFinding[]; why?: string };
}

export function compileGuardrails(defs: ReadonlyArray<{ id: string; def: GuardrailDef }>): CompiledGuardrails {
  const rails = defs.map(({ id, def }) => compile(id, def));
  const reach = Math.max(0, ...rails.map((r) => r.reach));
  return {
    ids: rails.map((r) => r.id),
    run(input) {
      const req = new RequestTexts(input.body, input.parsed, reach);
      const verdicts: GuardrailVerdict[] = [];
      let denied: GuardrailOutcome['denied'];
      for (const r of rails) {
        const { findings, why } = r.check(req, input);
        const matched = findings.length > 0;
        verdicts.push({ id: r.id, ...(r.name !== undefined && { name: r.name }), type: r.def.type, action: r.def.action, matched, findings });
        if (matched && r.def.action === 'deny') {
          const first = findings[0]!;
          const label = r.name === undefined ? `(${r.def.type})` : `(${r.def.type}: ${r.name})`;
          const message = `Guardrail "${r.id}" ${label} blocked this request: ${why}`;
          denied = { id: r.id, ...(r.name !== undefined && { name: r.name }), kind: first.kind, path: first.path, message };
          break;
        }
      }
      const redactedBody = req.redactedBody();
      return { verdicts, ...(denied && { denied }), ...(redactedBody && { redactedBody }) };
    },
  };
}

function compile(id: string, def: GuardrailDef): Rail {
  const rail = { id, name: def.name, def, reach: 0 };
  if (isContentDef(def)) {
    const detector = detectorFor(def);
    return {
      ...rail,
      reach: detector.reach ?? 0,
      check(req) {
        const findings = scanContent(req, detector, def.action === 'redact');
        const first = findings[0];
        if (!first) return { findings };
        const total = findings.reduce((n, f) => n + f.count, 0);
        const more = total > 1 ? ` (${total} findings in all)` : '';
        return { findings, why: `${describeKind(first.kind)} was found at ${first.path}${more}. Remove it and send again.` };
      },
    };
  }
  switch (def.type) {
    case 'allowed_models': {
      const patterns = def.models.map(wildcard);
      return {
        ...rail,
        check(_req, { model }) {
          if (model !== undefined && patterns.some((p) => p.test(model))) return { findings: [] };
          const what = model === undefined ? 'the request names no model' : `the model "${model}" is not allowed here`;
          return { findings: [{ kind: 'model', path: 'model', count: 1 }], why: `${what} (allowed: ${def.models.join(', ')}). Use an allowed model and send again.` };
        },
      };
    }
    case 'max_input_tokens':
      return {
        ...rail,
        check(req) {
          const tokens = req.inputTokens(def.max);
          if (tokens <= def.max) return { findings: [] };
          const why = `it has about ${tokens} input tokens (estimated as the UTF-8 bytes of its text / 4), more than the ${def.max} allowed. Shorten it and send again.`;
          return { findings: [{ kind: 'input_tokens', path: 'messages', count: 1 }], why };
        },
      };
    case 'required_metadata':
      return {
        ...rail,
        check(_req, { metadata }) {
          const missing = def.keys.filter((k) => !Object.hasOwn(metadata, k) || !metadata[k]);
          if (missing.length === 0) return { findings: [] };
          const findings = missing.map((k) => ({ kind: 'metadata', path: `metadata.${k}`, count: 1 }));
          return { findings, why: `the request metadata has no ${missing.map((k) => `"${k}"`).join(', ')}. Set it and send again.` };
        },
      };
  }
}

/** `claude-sonnet-*`: `*` matches any run of characters, nothing else is special. */
function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

interface Hit {
  kind: string;
  start: number;
  end: number;
}

/** The findings of one content guardrail, by text; a redact rewrites each text it matched. */
function scanContent(req: RequestTexts, detector: Detector, redact: boolean): GuardrailFinding[] {
  // Nothing in the JSON text: nothing in any text, and no need to parse (see scan.ts).
  const { precheck } = detector;
  const raw = precheck ? req.raw() : undefined;
  if (raw && precheck && !precheck(raw)) return [];
  const texts = req.texts();
  const findings: GuardrailFinding[] = [];
  let hits: Hit[] = [];
  const collect: OnMatch = (kind, start, end) => {
    hits.push({ kind, start, end });
  };
  for (let i = 0; i < texts.length; i++) {
    const text = readText(texts[i]!);
    detector.scan(text, collect);
    if (hits.length === 0) continue;
    hits.sort((a, b) => a.start - b.start);
    const path = pathOf(texts[i]!);
    const here = new Map<string, GuardrailFinding>();
    for (const h of hits) {
      const f = here.get(h.kind);
      if (f) f.count++;
      else here.set(h.kind, { kind: h.kind, path, count: 1 });
    }
    findings.push(...here.values());
    if (redact) req.rewrite(i, redacted(text, hits));
    hits = [];
  }
  return findings;
}

/** Each match replaced by [REDACTED:kind]; overlapping matches become one. */
function redacted(text: string, hits: readonly Hit[]): string {
  let out = '';
  let pos = 0;
  for (const h of hits) {
    if (h.start < pos) {
      pos = Math.max(pos, h.end);
      continue;
    }
    out += `${text.slice(pos, h.start)}[REDACTED:${h.kind}]`;
    pos = h.end;
  }
  return out + text.slice(pos);
}
