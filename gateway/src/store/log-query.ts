/** What `/api/admin/logs` (and `/api/me/logs`) can filter on; every field combines with AND. */
export interface LogQuery {
  /** `metadata.team=support` → { team: 'support' }. */
  metadata: Record<string, string>;
  key_id?: string;
  workspace?: string;
  model?: string;
  provider?: string;
  status?: number;
  trace_id?: string;
  session_id?: string;
  /** ISO times, inclusive / exclusive. */
  since?: string;
  until?: string;
  limit: number;
  /** From a previous page's `next_cursor`. */
  cursor?: string;
}
