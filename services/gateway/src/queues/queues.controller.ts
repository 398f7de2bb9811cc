import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import type { QueueStatsView, QueueView } from '@conveyor/contracts';
import type { Caller } from '@conveyor/identity';
import { Access, CallerOf } from '@conveyor/service';
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
  async list(@CallerOf() caller: Caller): Promise<{ items: QueueView[] }> {
    return { items: await this.queues.list(caller.tenant, caller.isAdmin) };
  }

  @Get(':name')
  @Access('read')
  get(@CallerOf() caller: Caller, @Param('name') name: string): Promise<QueueView> {
    return this.queues.view(name, caller.tenant, caller.isAdmin);
  }

  @Get(':name/stats')
  @Access('read')
  stats(@CallerOf() caller: Caller, @Param('name') name: string): Promise<QueueStatsView> {
    return this.queues.stats(name, caller.tenant);
  }

  @Post(':name/pause')
  @HttpCode(200)
  pause(@Param('name') name: string): Promise<QueueView> {
    return this.queues.pause(name);
  }

  @Post(':name/resume')
  @HttpCode(200)
  resume(@Param('name') name: string): Promise<QueueView> {
    return this.queues.resume(name);
  }

  @Post(':name/retry-failed')
  @HttpCode(200)
  retryFailed(@Param('name') name: string): Promise<QueueView> {
    return this.queues.retryFailed(name);
  }

  @Post(':name/clean')
  @HttpCode(200)
  clean(@Param('name') name: string, @Body() body: unknown): Promise<{ removed: number }> {
    const { status, olderThanMs, limit } = parseRequest(CleanQueueDto, body);
    return this.queues.clean(name, status, olderThanMs, limit);
  }

  @Put(':name/concurrency')
  setConcurrency(@Param('name') name: string, @Body() body: unknown): Promise<QueueView> {
    return this.queues.setConcurrency(name, parseRequest(QueueConcurrencyDto, body).concurrency);
  }
}
