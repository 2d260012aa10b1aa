/**
 * Conditional routing queries (Portkey's Mongo-style dialect) over `metadata.*` (the request's
 * metadata) and `params.*` (the body's fields): `$eq $ne $gt $gte $lt $lte $in $nin $regex`,
 * combined with `$and` / `$or`. Paths may go to any depth (Portkey stops at two).
 */
export interface QueryData {
  metadata: Readonly<Record<string, unknown>>;
  /** Reads a body field by its top-level name, parsing only that member. */
  param(name: string): unknown;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function lookup(path: string, data: QueryData): unknown {
  const [root, first, ...rest] = path.split('.');
  let cur: unknown = root === 'metadata' ? data.metadata[first ?? ''] : root === 'params' ? data.param(first ?? '') : undefined;
  for (const seg of rest) cur = isPlain(cur) ? cur[seg] : Array.isArray(cur) ? cur[Number(seg)] : undefined;
  return cur;
}

function compare(actual: unknown, op: string, expected: unknown): boolean {
  switch (op) {
    case '$eq':
      return actual === expected;
    case '$ne':
      return actual !== expected;
    case '$gt':
      return typeof actual === typeof expected && (actual as number) > (expected as number);
    case '$gte':
      return typeof actual === typeof expected && (actual as number) >= (expected as number);
    case '$lt':
      return typeof actual === typeof expected && (actual as number) < (expected as number);
    case '$lte':
      return typeof actual === typeof expected && (actual as number) <= (expected as number);
    case '$in':
      return Array.isArray(expected) && expected.includes(actual);
    case '$nin':
      return Array.isArray(expected) && !expected.includes(actual);
    case '$regex':
      return typeof actual === 'string' && typeof expected === 'string' && new RegExp(expected).test(actual);
    default:
      throw new Error(`unknown operator ${op}`);
  }
}

export function matches(query: Record<string, unknown>, data: QueryData): boolean {
  for (const [key, cond] of Object.entries(query)) {
    if (key === '$and' || key === '$or') {
      const parts = (Array.isArray(cond) ? cond : []).filter(isPlain);
      const ok = key === '$and' ? parts.every((q) => matches(q, data)) : parts.some((q) => matches(q, data));
      if (!ok) return false;
      continue;
    }
    const actual = lookup(key, data);
    if (isPlain(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      for (const [op, expected] of Object.entries(cond)) if (!compare(actual, op, expected)) return false;
    } else if (actual !== cond) {
      return false;
    }
  }
  return true;
}
