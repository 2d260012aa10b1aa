// The gateway the VS Code tests connect to: the Anthropic emulator behind it, a "platform"
// workspace whose onboarding profile asks for `user` and names the model ids, a daily budget,
// and one developer key that requires `user`.
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

export interface PlatformGateway {
  emu: AnthropicEmulator;
  gw: TestGateway;
  key: KeyWithSecret;
  close(): Promise<void>;
}

export async function startPlatformGateway(keyName: string, budgetUsdPerDay: number): Promise<PlatformGateway> {
  const emu = await AnthropicEmulator.start();
  const onboarding = { metadata_template: { user: '', team: 'platform' }, models: { default: 'claude-sonnet-5-5', sonnet: 'claude-sonnet-5-5', opus: 'claude-opus-5-5', haiku: 'claude-haiku-5-5' } };
  const gw = await startGateway(anthropicConfig(emu.url, { workspaces: { platform: { name: 'Platform', onboarding, budget: { usd: budgetUsdPerDay, period: 'day' } } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
  const key = await gw.createKey({ name: keyName, workspace: 'platform', required_metadata: ['user'] });
  return {
    emu,
    gw,
    key,
    async close() {
      await gw.close();
      await emu.close();
    },
  };
}
