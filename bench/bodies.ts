// Request bodies for the scenarios. C is shaped like what Claude Code really sends (reference:
// clients.md): 3 system blocks with cache_control, a dozen tools with JSON schemas, mid-
// conversation system messages, and a long history of tool calls and results, ~300 KB in all.

export const TOOLS = ['Agent', 'Bash', 'Edit', 'ListAgents', 'Read', 'ReportFindings', 'ScheduleWakeup', 'Skill', 'ToolSearch', 'Workflow', 'DeferredToolPlaceholder', 'Write'];

export const lorem = (n: number, seed: string) => {
  let s = '';
  while (s.length < n) s += `${seed} reads the module, checks each caller and keeps the behaviour unchanged. `;
  return s.slice(0, n);
};

export function smallBody(stream: boolean): string {
  return JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'say hi' }], ...(stream ? { stream: true } : {}) });
}

export function claudeCodeBody(targetBytes = 300_000): string {
  const tools = TOOLS.map((name) => ({
    name,
    description: lorem(1_800, name),
    input_schema: { type: 'object', properties: { command: { type: 'string', description: lorem(200, 'command') }, timeout: { type: 'number' } }, required: ['command'] },
    ...(name === 'DeferredToolPlaceholder' ? { defer_loading: true } : {}),
  }));
  const system = [
    { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.330.440; cc_entrypoint=sdk-cli;' },
    { type: 'text', text: "You are a Claude agent, built on Anthropic's Claude Agent SDK.", cache_control: { type: 'ephemeral' } },
    { type: 'text', text: lorem(7_000, 'agent'), cache_control: { type: 'ephemeral' } },
  ];
  const messages: unknown[] = [
    { role: 'user', content: [{ type: 'text', text: '<system-reminder>\n' + lorem(600, 'reminder') }, { type: 'text', text: 'Refactor the server module.' }] },
    { role: 'system', content: [{ type: 'text', text: '# Environment\n' + lorem(9_000, 'env'), cache_control: { type: 'ephemeral' } }] },
  ];
  for (let turn = 0; JSON.stringify({ tools, system, messages }).length < targetBytes; turn++) {
    const id = `toolu_bench_${turn}`;
    messages.push({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM'.repeat(16) },
        { type: 'text', text: lorem(300, 'plan') },
        { type: 'tool_use', id, name: 'Read', input: { file_path: `/home/dev/project/src/file-${turn}.ts` } },
      ],
    });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: lorem(3_500, `file ${turn}`) }] });
  }
  messages.push({ role: 'user', content: [{ type: 'text', text: 'Now apply the change.' }] });
  return JSON.stringify({
    model: 'claude-opus-5-5',
    messages,
    system,
    tools,
    metadata: { user_id: JSON.stringify({ device_id: 'bench', account_uuid: '', session_id: '5bf1f464-3a19-4514-8b26-e1196421fe01' }) },
    max_tokens: 128_000,
    thinking: { type: 'adaptive', display: 'omitted' },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    output_config: { effort: 'medium' },
    stream: true,
  });
}

/** Headers Claude Code sends (besides credentials), the same for every system. */
export const CLAUDE_CODE_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27',
  'user-agent': 'claude-cli/2.1.330 (external, sdk-cli)',
  'x-app': 'cli',
  'x-claude-code-session-id': '5bf1f464-3a19-4514-8b26-e1196421fe01',
};
