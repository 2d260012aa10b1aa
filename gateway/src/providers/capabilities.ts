/**
 * What each upstream accepts, declared in one place. Anthropic gets every beta and field
 * verbatim; Bedrock and Vertex reject some, which are dropped before sending (and reported in
 * the `x-gatehouse-dropped` response header) instead of failing the request.
 *
 * Evidence: Claude Code 2.1.330 itself, when pointed at Bedrock or Vertex directly, sends only
 * these betas and omits `context_management` (reference/clients.md, captures G and H), plus the
 * betas those platforms document.
 */
export interface Capabilities {
  betas: 'all' | ReadonlySet<string>;
  /** Top-level body fields the upstream rejects. */
  unsupportedFields: readonly string[];
}

const COMMON_CLOUD_BETAS = [
  'interleaved-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'computer-use-2025-01-24',
  'computer-use-2025-11-24',
  'token-efficient-tools-2025-02-19',
  'fine-grained-tool-streaming-2025-05-14',
  'output-128k-2025-02-19',
  'tool-search-tool-2025-10-19',
  'thinking-token-count-2026-05-13',
  'effort-2025-11-24',
];

export const CAPABILITIES = {
  anthropic: { betas: 'all', unsupportedFields: [] },
  bedrock: { betas: new Set(COMMON_CLOUD_BETAS), unsupportedFields: ['context_management'] },
  vertex: { betas: new Set([...COMMON_CLOUD_BETAS, 'claude-code-20250219', 'web-search-2025-03-05']), unsupportedFields: ['context_management'] },
} as const satisfies Record<string, Capabilities>;

export interface Filtered {
  betas: string[];
  /** What was left out, as `beta:<name>` and `field:<name>`. */
  dropped: string[];
  removeFields: string[];
}

/** Splits the client's betas and fields into what the upstream takes and what it would reject. */
export function applyCapabilities(caps: Capabilities, betaHeader: string | undefined, fields: Iterable<string>): Filtered {
  const asked = (betaHeader ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  const betas = caps.betas === 'all' ? asked : asked.filter((b) => (caps.betas as ReadonlySet<string>).has(b));
  const present = new Set(fields);
  const removeFields = caps.unsupportedFields.filter((f) => present.has(f));
  const dropped = [...asked.filter((b) => !betas.includes(b)).map((b) => `beta:${b}`), ...removeFields.map((f) => `field:${f}`)];
  return { betas, dropped, removeFields };
}
