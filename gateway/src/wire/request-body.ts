import { scanJson, type Member } from './json-scan.js';

const QUOTE = 0x22;

/**
 * A Messages API request body: the bytes as received (forwarded untouched) and cheap access to
 * its top-level fields, without parsing the rest.
 */
export class RequestBody {
  private constructor(
    readonly raw: Buffer,
    readonly members: ReadonlyMap<string, Member>,
  ) {}

  static scan(raw: Buffer): RequestBody | { offset: number; what: string } {
    const r = scanJson(raw);
    return r.ok ? new RequestBody(raw, r.members) : r;
  }

  /** The top-level member's JSON text, or undefined. */
  text(name: string): string | undefined {
    const m = this.members.get(name);
    return m && this.raw.toString('utf8', m.start, m.end);
  }

  string(name: string): string | undefined {
    const m = this.members.get(name);
    return m?.lead === QUOTE ? (JSON.parse(this.raw.toString('utf8', m.start, m.end)) as string) : undefined;
  }

  number(name: string): number | undefined {
    const v = this.members.get(name) && Number(this.text(name));
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  boolean(name: string): boolean | undefined {
    const t = this.members.has(name) ? this.text(name) : undefined;
    return t === 'true' ? true : t === 'false' ? false : undefined;
  }

  /**
   * A new body with some top-level members removed and others set, spliced on the bytes so
   * everything else (order, spacing, unknown fields) stays exactly as the client sent it.
   */
  edit(remove: readonly string[], set: Readonly<Record<string, unknown>> = {}): Buffer {
    const drop = new Set([...remove, ...Object.keys(set)]);
    const parts: Buffer[] = [];
    for (const [name, m] of this.members) if (!drop.has(name)) parts.push(this.raw.subarray(m.keyStart, m.end));
    for (const [name, value] of Object.entries(set)) parts.push(Buffer.from(`${JSON.stringify(name)}:${JSON.stringify(value)}`));
    const out: Buffer[] = [Buffer.from('{')];
    parts.forEach((p, i) => out.push(...(i ? [Buffer.from(','), p] : [p])));
    out.push(Buffer.from('}'));
    return Buffer.concat(out);
  }
}
