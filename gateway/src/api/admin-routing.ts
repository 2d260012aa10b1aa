import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../server/runtime.js';

/** Routing state an admin can inspect: which providers' circuits are open. */
export function adminRoutingRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/circuits', async () => ({ data: rt.circuits.states() }));
  };
}
