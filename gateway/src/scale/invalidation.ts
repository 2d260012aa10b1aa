import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../server/runtime.js';
import type { ScaleBus } from './bus.js';

/**
 * Admin changes made on one instance reach the others within a moment: every successful write
 * under /api/admin is announced on the bus, and each other instance then drops its key cache and
 * reloads providers, routing configs, workspaces and guardrails from the shared store. Reloading
 * everything is cheap next to how rarely admins write, and cannot miss a kind of change.
 */
const TOPIC = 'admin.changed';
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function shareAdminChanges(admin: FastifyInstance, rt: Runtime, bus: ScaleBus): void {
  admin.addHook('onResponse', async (req, reply) => {
    if (WRITES.has(req.method) && reply.statusCode < 400) bus.publish(TOPIC, { path: req.url });
  });

  // One reload at a time; a change announced during a reload triggers one more after it.
  let running: Promise<void> | undefined;
  let again = false;
  const reload = (): void => {
    if (running) {
      again = true;
      return;
    }
    rt.keys.clear();
    running = (async () => {
      await rt.providerRegistry.load(rt.store);
      await rt.configs.load(rt.store);
      await rt.policies.load(rt.store);
    })()
      .catch((e: unknown) => admin.log.warn({ err: String(e) }, 'could not reload admin changes made on another instance'))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          reload();
        }
      });
  };
  bus.on(TOPIC, reload);
  bus.onReconnect(reload);
}
