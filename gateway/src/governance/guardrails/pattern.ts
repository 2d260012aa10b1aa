import type { Detector, RawBody } from './scan.js';

/**
 * A `regex` guardrail: the admin's pattern on each text. When the pattern only ever matches
 * characters JSON leaves as they are, it also serves as the pre-check on the body's JSON text
 * (scan.ts), with each `\b` dropped: a boundary may sit after an escape such as `\n`, whose
 * letter the JSON text has instead, and checking for that in the pattern costs V8 its fast scan.
 */
export function pattern(source: string, flags: string): Detector {
  const text = new RegExp(source, `${flags}g`);
  const rawSource = rawSafeSource(source);
  const raw = rawSource === undefined ? undefined : new RegExp(rawSource, `${flags}g`);
  // A literal every match holds ("CUST-" in \bCUST-\d{6}\b): V8 finds it about six times faster
  // than it runs the regex, and most texts do not hold it.
  const lit = flags.includes('i') ? '' : requiredLiteral(source);
  const any = (re: RegExp, s: string, on: (start: number, end: number) => boolean): void => {
    if (lit && !s.includes(lit)) return;
    re.lastIndex = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      if (m[0] === '') re.lastIndex++;
      else if (on(m.index, re.lastIndex)) return;
    }
  };
  return {
    scan: (s, on) => any(text, s, (start, end) => on('regex', start, end) === true),
    ...(raw && {
      precheck(body: RawBody) {
        // The literal is looked for in the bytes; only a body that has it is decoded whole.
        if (lit && body.bytes.indexOf(lit) === -1) return false;
        let hit = false;
        any(raw, body.whole(), () => (hit = true));
        return hit;
      },
    }),
  };
}

/**
 * The longest run of plain characters outside any group, class or alternative, none optional
 * or repeated, so that every match contains it; '' when there is none or the pattern uses an
 * escape this reading does not follow.
 */
export function requiredLiteral(src: string): string {
  let best = '';
  let run = '';
  for (let i = 0; i < src.length; ) {
    const c = src[i]!;
    let lit: string | undefined;
    let next = i + 1;
    if (c === '|') return '';
    if (c === '\\') {
      const e = src[i + 1] ?? '';
      if (/[xucpPk0-9]/.test(e)) return ''; // escapes with a payload (\x41, \u{…}, \p{L}, \1)
      if (/[.*+?^${}()|[\]\\/-]/.test(e)) lit = e;
      next = i + 2;
    } else if (c === '[') next = skipClass(src, i);
    else if (c === '(') next = skipGroup(src, i);
    else if (c === '{') next = src.includes('}', i) ? src.indexOf('}', i) + 1 : src.length;
    else if (!'.^$*+?}'.includes(c)) lit = c;
    if (lit !== undefined && '*+?{'.includes(src[next] ?? ' ')) lit = undefined;
    if (lit !== undefined) run += lit;
    else {
      if (run.length > best.length) best = run;
      run = '';
    }
    i = next;
  }
  return run.length > best.length ? run : best;
}

/** The index after the class that starts at i. */
function skipClass(src: string, i: number): number {
  let j = i + 1;
  while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** The index after the group that starts at i. */
function skipGroup(src: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') j += 2;
    else if (c === '[') j = skipClass(src, j);
    else {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return j + 1;
      j++;
    }
  }
  return j;
}

/**
 * The pattern for the JSON text, or undefined when it might match there less than in a text:
 * when it can match a character JSON escapes (`"`, `\`, `/`, a control character: through `.`,
 * `\s`, `\W`, `\D`, a negated class, a wide range), depends on what precedes a match (`^`, `$`,
 * a negative lookbehind, `\B`), or uses escapes this reading does not follow (`\p`, `\x`, `\u`).
 */
export function rawSafeSource(src: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) return undefined;
      if (e === 'b') out += '(?:)';
      else if (e === 'd' || e === 'w' || /[1-9]/.test(e)) out += `\\${e}`;
      else if (e === 'k' && src[i + 2] === '<') {
        const close = src.indexOf('>', i);
        if (close === -1) return undefined;
        out += src.slice(i, close + 1);
        i = close + 1;
        continue;
      } else if (/[.*+?^${}()|[\]-]/.test(e)) out += `\\${e}`;
      else return undefined;
      i += 2;
    } else if (c === '[') {
      const end = classEnd(src, i);
      if (end < 0) return undefined;
      out += src.slice(i, end + 1);
      i = end + 1;
    } else if (c === '(') {
      // Groups and lookaheads keep what they match inside the text; a negative lookbehind does not.
      if (src.startsWith('(?<!', i)) return undefined;
      const open = /^\((?:\?(?::|=|!|<=|<[A-Za-z_$][\w$]*>))?/.exec(src.slice(i))![0];
      out += open;
      i += open.length;
    } else if (c === '.' || c === '^' || c === '$' || c === '"' || c === '/' || c < ' ') {
      return undefined;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index of the `]` closing a class at `at`, or -1 when the class could match an unsafe character. */
function classEnd(src: string, at: number): number {
  if (src[at + 1] === '^') return -1;
  for (let i = at + 1; i < src.length; i++) {
    const c = src[i]!;
    if (c === ']') return i;
    let code: number;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === 'd' || e === 'w') {
        i++;
        continue;
      }
      if (e === undefined || !/[.*+?^${}()|[\]-]/.test(e)) return -1;
      code = e.charCodeAt(0);
      i++;
    } else {
      code = c.charCodeAt(0);
    }
    // A range a-b: every character in it must be safe.
    if (src[i + 1] === '-' && src[i + 2] !== ']' && src[i + 2] !== undefined) {
      let hi = src[i + 2]!;
      if (hi === '\\') {
        hi = src[i + 3] ?? '';
        if (!/[.*+?^${}()|[\]-]/.test(hi)) return -1;
        i++;
      }
      if (!rangeSafe(code, hi.charCodeAt(0))) return -1;
      i += 2;
      continue;
    }
    if (!rangeSafe(code, code)) return -1;
  }
  return -1;
}

/** No control character, `"`, `/` or `\` in [lo, hi]. */
function rangeSafe(lo: number, hi: number): boolean {
  return lo >= 0x20 && hi >= lo && !(lo <= 0x22 && hi >= 0x22) && !(lo <= 0x2f && hi >= 0x2f) && !(lo <= 0x5c && hi >= 0x5c);
}
