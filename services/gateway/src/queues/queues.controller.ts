import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import type { QueueStatsView, QueueView } from '@conveyor/contracts';
import type { Caller } from '@conveyor/identity';
import { Access, ApiRoute, CallerOf } from '@conveyor/service';
import { parseRequest } from '../http/parse-request.js';
import { CleanQueueDto, QueueConcurrencyDto } from './queue-requests.dto.js';
import { QueuesService } from './queues.service.js';

/** Queues are shared: operations are the admin's; everyone reads the counts of their own tenant. */
@Controller('v1/queues')
@Access('admin')
export class QueuesController {
  constructor(private readonly queues: QueuesService) {}

  @Get()
  @Access('read')
  @ApiRoute({ summary: 'Queues and their counts', answers: { 200: 'QueueItems' } })
  async list(@CallerOf() caller: Caller): Promise<{ items: QueueView[] }> {
    return { items: await this.queues.list(caller.tenant, caller.isAdmin) };
  }

  @Get(':name')
  @Access('read')
  @ApiRoute({ summary: 'A queue and its counts', answers: { 200: 'QueueView' } })
  get(@CallerOf() caller: Caller, @Param('name') name: string): Promise<QueueView> {
    return this.queues.view(name, caller.tenant, caller.isAdmin);
  }

  @Get(':name/stats')
  @Access('read')
  @ApiRoute({ summary: "A queue's last hour, minute by minute: endings and wait percentiles", answers: { 200: 'QueueStatsView' } })
  stats(@CallerOf() caller: Caller, @Param('name') name: string): Promise<QueueStatsView> {
    return this.queues.stats(name, caller.tenant);
  }

  @Post(':name/pause')
  @HttpCode(200)
  @ApiRoute({ summary: 'Pause a queue', answers: { 200: 'QueueView' } })
  pause(@Param('name') name: string): Promise<QueueView> {
    return this.queues.pause(name);
  }

  @Post(':name/resume')
  @HttpCode(200)
  @ApiRoute({ summary: 'Resume a queue', answers: { 200: 'QueueView' } })
  resume(@Param('name') name: string): Promise<QueueView> {
    return this.queues.resume(name);
  }

  @Post(':name/retry-failed')
  @HttpCode(200)
  @ApiRoute({ summary: "Retry a queue's failed executions", answers: { 200: 'QueueView' } })
  retryFailed(@Param('name') name: string): Promise<QueueView> {
    return this.queues.retryFailed(name);
  }

  @Post(':name/clean')
  @HttpCode(200)
  @ApiRoute({ summary: "Remove a queue's ended executions", body: 'CleanQueueDto', answers: { 200: 'CleanResult' } })
  clean(@Param('name') name: string, @Body() body: unknown): Promise<{ removed: number }> {
    const { status, olderThanMs, limit } = parseRequest(CleanQueueDto, body);
    return this.queues.clean(name, status, olderThanMs, limit);
  }

  @Put(':name/concurrency')
  @ApiRoute({ summary: "Set or clear a queue's global concurrency", body: 'QueueConcurrencyDto', answers: { 200: 'QueueView' } })
  setConcurrency(@Param('name') name: string, @Body() body: unknown): Promise<QueueView> {
    return this.queues.setConcurrency(name, parseRequest(QueueConcurrencyDto, body).concurrency);
  }
}
