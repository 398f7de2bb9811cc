import { createServer, type Server } from 'node:http';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '@conveyor/config';
import { metricsOn, metricsText, watchRedis } from '@conveyor/metrics';
import { isRedisAvailable, REDIS } from '@conveyor/redis';
import { LOGGER, type Logger } from '@conveyor/service';
import { WORKER_CONFIG } from '../worker-config.js';

/**
 * `/health` on WORKER_HEALTH_PORT when set: 200 while Redis answers, 503 otherwise; and `/metrics`
 * (unless metrics are off), public like `/health`.
 */
@Injectable()
export class WorkerHealth implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: Server | null = null;

  constructor(
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const where = this.config.health;
    if (!where) return;
    if (metricsOn()) watchRedis(this.redis);
    const server = createServer((request, response) => {
      if (request.url === '/metrics' && metricsOn()) {
        metricsText().then(
          ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
          () => response.writeHead(500).end(),
        );
        return;
      }
      if (request.url !== '/health') {
        response.writeHead(404).end();
        return;
      }
      const ok = isRedisAvailable(this.redis);
      response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', redis: ok ? 'up' : 'down' }));
    });
    await new Promise<void>((resolve) => server.listen(where.port, where.host, resolve));
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : where.port;
    this.logger.info({ url: `http://${where.host}:${port}/health` }, 'health listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}
