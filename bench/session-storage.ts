// Body storage of one long Claude Code session: every turn re-sends the whole history, so what
// is sent grows quadratically with the turns; stored by content (each block once) it should grow
// linearly. Runs the gateway's own SQLite store in a scratch directory, no network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../gateway/src/store/sqlite.js';
import { summarize } from '../gateway/src/observe/bodies.js';
import { lorem, TOOLS } from './bodies.js';

export interface SessionStorage {
  turns: number;
  sent_bytes: number;
  stored_bytes: number;
  stored_bytes_at_half: number;
  /** What the second half of the session added, over what the first half took: ~1 is linear, ~3 quadratic. */
  second_half_over_first: number;
  sent_second_half_over_first: number;
}

export async function runSessionStorage(turns = 100): Promise<SessionStorage> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-bodies-'));
  const store = new SqliteStore(dir);
  try {
    const tools = TOOLS.map((name) => ({ name, description: lorem(1_800, name), input_schema: { type: 'object', properties: { command: { type: 'string' } } } }));
    const system = [{ type: 'text', text: lorem(7_000, 'agent'), cache_control: { type: 'ephemeral' } }];
    const messages: unknown[] = [{ role: 'user', content: [{ type: 'text', text: 'Refactor the server module.' }] }];
    let sent = 0;
    let sentHalf = 0;
    let storedHalf = 0;
    for (let turn = 1; turn <= turns; turn++) {
      const request = Buffer.from(JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 32_000, stream: true, system, tools, messages }));
      const response = Buffer.from(`event: message_start\ndata: {"turn":${turn}}\n\n` + lorem(300, `plan ${turn}`));
      sent += request.length;
      await store.insertBodies([{ log_id: `req_${turn}`, created_at: new Date().toISOString(), summary: summarize(request, response.length), full: { request, response } }]);
      if (turn === turns / 2) {
        sentHalf = sent;
        storedHalf = await store.bodyBytes();
      }
      const id = `toolu_${turn}`;
      messages.push({ role: 'assistant', content: [{ type: 'text', text: lorem(300, `plan ${turn}`) }, { type: 'tool_use', id, name: 'Read', input: { file_path: `/src/file-${turn}.ts` } }] });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: lorem(3_500, `file ${turn}`) }] });
    }
    const stored = await store.bodyBytes();
    return {
      turns,
      sent_bytes: sent,
      stored_bytes: stored,
      stored_bytes_at_half: storedHalf,
      second_half_over_first: (stored - storedHalf) / storedHalf,
      sent_second_half_over_first: (sent - sentHalf) / sentHalf,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
