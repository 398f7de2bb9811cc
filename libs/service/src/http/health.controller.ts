import { Controller, Get, Inject } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '@conveyor/redis';
import { Access } from './access.js';
import { ApiError } from './api-error.js';
import { ApiRoute } from './api-route.js';

const readinessTimeoutMs = 1000;

/** Public: load balancers and orchestrators probe it without credentials. */
@Controller('health')
@Access('public')
export class HealthController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** The process is up. */
  @Get()
  @ApiRoute({ summary: 'Liveness', answers: { 200: 'Liveness' } })
  live() {
    return { status: 'ok' };
  }

  /** The process can serve requests: Redis answers within a second (else 503 at once). */
  @Get('ready')
  @ApiRoute({ summary: 'Readiness: Redis answers', answers: { 200: 'Readiness' } })
  async ready() {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), readinessTimeoutMs).unref());
    try {
      await Promise.race([this.redis.ping(), timeout]);
    } catch {
      throw ApiError.redisUnavailable();
    }
    return { status: 'ready', redis: 'up' };
  }
}
