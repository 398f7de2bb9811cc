import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { defaultTenant, isPlainObject, type AnyTask, type ExecutionView, type LogLine } from '@conveyor/contracts';
import {
  ExecutionActions,
  ExecutionFinder,
  ExecutionReader,
  ExecutionStore,
  ExecutionSubmitter,
  type ExecutionPage,
} from '@conveyor/executions';
import { ApiError } from '@conveyor/service';
import { OFFERED_TASKS } from '../gateway-config.js';
import { parseRequest } from '../http/parse-request.js';
import { executionId } from '../http/request-guards.js';
import { CancelExecutionDto, EventsQueryDto, parseListQuery } from './execution-requests.dto.js';
import { fingerprint, isInputTooLarge, validateBatch, validateSubmission } from './submission.js';

@Controller('v1/executions')
export class ExecutionsController {
  constructor(
    private readonly submitter: ExecutionSubmitter,
    private readonly reader: ExecutionReader,
    private readonly actions: ExecutionActions,
    private readonly store: ExecutionStore,
    private readonly finder: ExecutionFinder,
    @Inject(OFFERED_TASKS) private readonly tasks: readonly AnyTask[],
  ) {}

  /** `202` with a new execution; `200` with the first one when an idempotency key repeats a request. */
  @Post()
  async submit(
    @Body() body: unknown,
    @Headers('idempotency-key') headerKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ExecutionView> {
    if (isInputTooLarge(body)) throw ApiError.payloadTooLarge('The execution input is larger than 256 KiB.');
    // Only an object takes the header's key: spreading a string body would make a key of each character.
    const submission = validateSubmission(headerKey === undefined || !isPlainObject(body) ? body : { ...body, idempotencyKey: headerKey }, this.tasks);
    if (!submission.ok) throw ApiError.validation(submission.errors);
    const bodyKey = (body as { idempotencyKey?: unknown }).idempotencyKey;
    if (headerKey !== undefined && bodyKey !== undefined && bodyKey !== headerKey) {
      throw ApiError.validation([{ path: 'idempotencyKey', message: 'differs from the Idempotency-Key header' }]);
    }
    const { idempotencyKey, ...rest } = submission.value;
    const { execution, created } = idempotencyKey
      ? await this.submitter.submitOnce(idempotencyKey, fingerprint(body), rest, defaultTenant)
      : { execution: await this.submitter.submit(rest, defaultTenant), created: true };
    reply.status(created ? 202 : 200).header('location', `/v1/executions/${execution.id}`);
    return execution;
  }

  /** Up to 1,000 submissions, all validated before any is enqueued. */
  @Post('batch')
  @HttpCode(202)
  async submitBatch(@Body() body: unknown, @Headers('idempotency-key') headerKey: string | undefined): Promise<{ items: ExecutionView[] }> {
    // Silently ignoring it would run a repeated batch twice.
    if (headerKey !== undefined) throw ApiError.validation([{ path: 'Idempotency-Key', message: 'is not supported for batches' }]);
    const submissions = await validateBatch(body, this.tasks);
    return { items: await this.submitter.submitMany(submissions, defaultTenant) };
  }

  /** Newest first, filtered, paged by an opaque cursor; with totals per status. */
  @Get()
  async list(@Query() query: unknown): Promise<ExecutionPage> {
    const { limit, cursor, include, filters } = parseListQuery(query);
    return this.finder.find(defaultTenant, filters, limit, cursor, include);
  }

  @Get(':id')
  async get(@Param('id', executionId) id: string): Promise<ExecutionView> {
    const execution = await this.reader.get(id, defaultTenant);
    if (!execution) throw ApiError.notFound(`Execution ${id}`);
    return execution;
  }

  @Get(':id/events')
  async events(@Param('id', executionId) id: string, @Query() query: unknown) {
    const { since = 0, limit } = parseRequest(EventsQueryDto, query);
    const { queue } = await this.locate(id);
    return { items: (await this.store.readEvents(queue, id, since, limit)).events };
  }

  @Get(':id/logs')
  async logs(@Param('id', executionId) id: string): Promise<{ items: LogLine[] }> {
    const { queue } = await this.locate(id);
    return { items: await this.store.readLogs(queue, id) };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id', executionId) id: string, @Body() body: unknown): Promise<ExecutionView> {
    return this.actions.cancel(id, defaultTenant, parseRequest(CancelExecutionDto, body).reason ?? null);
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.actions.pause(id, defaultTenant);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.actions.resume(id, defaultTenant);
  }

  @Post(':id/retry')
  @HttpCode(200)
  retry(@Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.actions.retry(id, defaultTenant);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', executionId) id: string): Promise<void> {
    await this.actions.delete(id, defaultTenant);
  }

  private async locate(id: string) {
    const location = await this.store.locate(id);
    if (!location || location.tenant !== defaultTenant) throw ApiError.notFound(`Execution ${id}`);
    return location;
  }
}
