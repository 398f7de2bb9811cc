import type { NestExpressApplication } from '@nestjs/platform-express';

/** One route the gateway serves: `POST /v1/executions/:id/cancel`. */
export interface Route {
  method: string;
  path: string;
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * Every route of the gateway, read from the Express router of a gateway built in-process from its
 * compiled module (initialised, never listening), so that routes added later are found too.
 * Middleware mounts (Bull Board's `/admin/queues`) are not routes and are not listed.
 */
export async function gatewayRoutes(env: Record<string, string>): Promise<Route[]> {
  // Loaded here, not at the top: only the tests that ask for routes pay for building a gateway.
  const [{ NestFactory }, { loadGatewayConfig }, { createLogger }, { GatewayModule }] = await Promise.all([
    import('@nestjs/core'),
    import('@conveyor/config'),
    import('@conveyor/service'),
    import('../../../services/gateway/src/gateway.module.js'),
  ]);
  const module = GatewayModule.forRoot(loadGatewayConfig(env), createLogger('gateway-routes', 'silent'));
  const app = await NestFactory.create<NestExpressApplication>(module, { logger: false, bodyParser: false });
  try {
    await app.init();
    // Express's types leave out a route's `methods`.
    const layers = app.getHttpAdapter().getInstance().router.stack as unknown as RouterLayer[];
    return layers.flatMap(({ route }) =>
      route ? Object.keys(route.methods).filter((method) => method !== '_all').map((method) => ({ method: method.toUpperCase(), path: route.path })) : [],
    );
  } finally {
    await app.close();
  }
}
