import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { metricsText, observeHttpRequest, watchRedis } from '@conveyor/metrics';
import { REDIS } from '@conveyor/redis';
import { Access } from './access.js';

/**
 * Prometheus' scrape target. Public like `/health`: it carries counts and timings by queue, task,
 * route and status, never an id or a tenant; keep it off public ingress. Served only with metrics on.
 */
@Controller('metrics')
@Access('public')
export class MetricsController {
  constructor(@Inject(REDIS) redis: Redis) {
    watchRedis(redis);
  }

  @Get()
  async metrics(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const { contentType, body } = await metricsText();
    void reply.header('content-type', contentType);
    return body;
  }
}

/** Times every answered request by its route template (Bull Board's, the dashboard's and not-found ones too). */
export function observeRequests(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', async (request, reply) => {
    observeHttpRequest(request.method, request.routeOptions.url ?? null, reply.statusCode, reply.elapsedTime / 1000);
  });
}
