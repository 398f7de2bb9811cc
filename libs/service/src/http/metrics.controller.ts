import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { UnauthorizedError } from '@conveyor/contracts';
import { authorize, Authenticator } from '@conveyor/identity';
import { metricsText, observeHttpRequest, watchRedis } from '@conveyor/metrics';
import { REDIS } from '@conveyor/redis';
import { Access } from './access.js';
import { ApiRoute } from './api-route.js';

/**
 * Prometheus' scrape target, served only with metrics on. Its counts span every tenant, so it takes
 * the admin key as a bearer (Prometheus' `authorization` setting). Checked here rather than by a guard:
 * the monitor has no HTTP guard.
 */
@Controller('metrics')
@Access('public')
export class MetricsController {
  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
  ) {
    watchRedis(redis);
  }

  @Get()
  @ApiBearerAuth('bearer')
  @ApiRoute({ summary: 'Prometheus metrics: the admin key as a bearer; 404 with metrics off', answers: { 200: null }, text: true, errors: [401, 404] })
  async metrics(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const [, bearer] = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '') ?? [];
    const principal = await this.authenticator.authenticate(bearer);
    if (!principal) throw new UnauthorizedError('/metrics takes the admin key (Authorization: Bearer <key>).');
    authorize(principal, 'admin');
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
