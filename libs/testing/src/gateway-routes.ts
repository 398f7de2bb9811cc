import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** One route the gateway serves: `POST /v1/executions/:id/cancel`. */
export interface Route {
  method: string;
  path: string;
}

/**
 * Every route of the gateway, as the router registers it, from a gateway built in-process from its
 * compiled module (initialised, never listening), so that routes added later are found too. Routes of
 * plugins mounted under a prefix (Bull Board's `/admin/queues`) and the HEAD twins of GET routes are
 * not listed.
 */
export async function gatewayRoutes(env: Record<string, string>): Promise<Route[]> {
  // Loaded here, not at the top: only the tests that ask for routes pay for building a gateway.
  const [{ NestFactory }, { loadGatewayConfig }, { createLogger, httpPlatform }, { GatewayModule }] = await Promise.all([
    import('@nestjs/core'),
    import('@conveyor/config'),
    import('@conveyor/service'),
    import('../../../services/gateway/src/gateway.module.js'),
  ]);
  const logger = createLogger('gateway-routes', 'silent');
  const module = GatewayModule.forRoot(loadGatewayConfig(env), logger);
  const app = await NestFactory.create<NestFastifyApplication>(module, httpPlatform(logger), { logger: false, bodyParser: false });
  const routes: Route[] = [];
  app.getHttpAdapter().getInstance().addHook('onRoute', ({ method, url, prefix }) => {
    if (prefix !== '') return;
    for (const one of [method].flat()) if (one !== 'HEAD') routes.push({ method: one, path: url! });
  });
  try {
    await app.init();
    return routes;
  } finally {
    await app.close();
  }
}
