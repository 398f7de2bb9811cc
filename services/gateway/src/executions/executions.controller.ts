import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { inTenant, isPlainObject, type AnyTask, type ExecutionView, type LogLine, type RateLimitState } from '@conveyor/contracts';
import {
  ExecutionActions,
  ExecutionFinder,
  ExecutionReader,
  ExecutionStore,
  ExecutionSubmitter,
  type ExecutionPage,
  type Submission,
} from '@conveyor/executions';
import type { Caller } from '@conveyor/identity';
import { Access, ApiError, ApiRoute, CallerOf, rateLimitHeaders, setHeaders } from '@conveyor/service';
import { TenantQuota } from '@conveyor/tenants';
import { OFFERED_TASKS } from '../gateway-config.js';
import { parseRequest } from '../http/parse-request.js';
import { executionId } from '../http/request-guards.js';
import { Traced } from '../http/traced-requests.js';
import { CancelExecutionDto, EventsQueryDto, ListExecutionsQueryDto, parseListQuery } from './execution-requests.dto.js';
import { CreatesExecutions, LoggedExecutions } from './logged-executions.js';
import { fingerprint, isInputTooLarge, validateBatch, validateSubmission } from './submission.js';

@Controller('v1/executions')
@Access('write')
@Traced()
@UseInterceptors(LoggedExecutions)
export class ExecutionsController {
  constructor(
    private readonly submitter: ExecutionSubmitter,
    private readonly reader: ExecutionReader,
    private readonly actions: ExecutionActions,
    private readonly store: ExecutionStore,
    private readonly finder: ExecutionFinder,
    private readonly quota: TenantQuota,
    @Inject(OFFERED_TASKS) private readonly tasks: readonly AnyTask[],
  ) {}

  /**
   * `202` with a new execution; `200` with the first one when an idempotency key repeats a request.
   * Either carries the `RateLimit-*` headers of the tenant's limit nearest exhaustion.
   */
  @Post()
  @ApiRoute({ summary: 'Submit an execution', body: 'SubmitExecution', answers: { 202: 'ExecutionView', 200: 'ExecutionView' }, errors: [409, 429], headers: ['Location', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] })
  @ApiHeader({ name: 'idempotency-key', required: false, description: 'Or `idempotencyKey` in the body.' })
  @CreatesExecutions()
  async submit(
    @CallerOf() caller: Caller,
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
    const { execution, created, rateLimit } = await this.submitAdmitted(rest, caller.writeTenant, idempotencyKey, body);
    setHeaders(reply, rateLimitHeaders(rateLimit));
    reply.status(created ? 202 : 200).header('location', `/v1/executions/${execution.id}`);
    return execution;
  }

  /** Up to 1,000 submissions, all validated before any is enqueued, and admitted by the tenant's limits all or none. */
  @Post('batch')
  @HttpCode(202)
  @ApiRoute({ summary: 'Submit up to 1,000 executions, all or none', body: 'SubmitBatch', answers: { 202: 'ExecutionItems' }, errors: [429], headers: ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] })
  @CreatesExecutions()
  async submitBatch(
    @CallerOf() caller: Caller,
    @Body() body: unknown,
    @Headers('idempotency-key') headerKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ items: ExecutionView[] }> {
    // Silently ignoring it would run a repeated batch twice.
    if (headerKey !== undefined) throw ApiError.validation([{ path: 'Idempotency-Key', message: 'is not supported for batches' }]);
    const tenant = caller.writeTenant;
    const submissions = await validateBatch(body, this.tasks);
    const { created, admitted } = await this.quota.admitAndCreate(tenant, submissions.length, () => this.submitter.submitMany(submissions, tenant));
    setHeaders(reply, rateLimitHeaders(admitted));
    return { items: created };
  }

  /** Newest first, filtered, paged by an opaque cursor; with totals per status. */
  @Get()
  @Access('read')
  @ApiRoute({ summary: 'List executions, newest first', query: ListExecutionsQueryDto, answers: { 200: 'ExecutionPage' } })
  async list(@CallerOf() caller: Caller, @Query() query: unknown): Promise<ExecutionPage> {
    const { limit, cursor, include, filters } = parseListQuery(query);
    return this.finder.find(caller.tenant, filters, limit, cursor, include);
  }

  @Get(':id')
  @Access('read', { tokens: true })
  @ApiRoute({ summary: 'Read an execution', answers: { 200: 'ExecutionView' } })
  async get(@CallerOf() caller: Caller, @Param('id', executionId) id: string): Promise<ExecutionView> {
    const execution = await this.reader.get(id, caller.tenant);
    if (!execution || !caller.sees({ execution: id, tenant: execution.tenant, tags: execution.tags, scheduleId: execution.scheduleId })) {
      throw ApiError.notFound(`Execution ${id}`);
    }
    return execution;
  }

  @Get(':id/events')
  @Access('read', { tokens: true })
  @ApiRoute({ summary: "An execution's event timeline", query: EventsQueryDto, answers: { 200: 'EventItems' } })
  async events(@CallerOf() caller: Caller, @Param('id', executionId) id: string, @Query() query: unknown) {
    const { since = 0, limit } = parseRequest(EventsQueryDto, query);
    const { queue } = await this.locate(caller, id);
    return { items: (await this.store.readEvents(queue, id, since, limit)).events };
  }

  @Get(':id/logs')
  @Access('read', { tokens: true })
  @ApiRoute({ summary: "An execution's stored log lines", answers: { 200: 'LogItems' } })
  async logs(@CallerOf() caller: Caller, @Param('id', executionId) id: string): Promise<{ items: LogLine[] }> {
    const { queue } = await this.locate(caller, id);
    return { items: await this.store.readLogs(queue, id) };
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiRoute({ summary: 'Cancel an execution', body: 'CancelExecutionDto', answers: { 200: 'ExecutionView' }, errors: [409] })
  cancel(@CallerOf() caller: Caller, @Param('id', executionId) id: string, @Body() body: unknown): Promise<ExecutionView> {
    return this.actions.cancel(id, caller.tenant, parseRequest(CancelExecutionDto, body).reason ?? null);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiRoute({ summary: 'Pause an execution (at its next checkpoint when running)', answers: { 200: 'ExecutionView' }, errors: [409] })
  pause(@CallerOf() caller: Caller, @Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.actions.pause(id, caller.tenant);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiRoute({ summary: 'Resume a paused execution', answers: { 200: 'ExecutionView' }, errors: [409] })
  resume(@CallerOf() caller: Caller, @Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.actions.resume(id, caller.tenant);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiRoute({ summary: 'Retry a failed or cancelled execution', answers: { 200: 'ExecutionView' }, errors: [409] })
  retry(@CallerOf() caller: Caller, @Param('id', executionId) id: string): Promise<ExecutionView> {
    return this.actions.retry(id, caller.tenant);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({ summary: 'Forget a terminal execution', answers: { 204: null }, errors: [409] })
  async delete(@CallerOf() caller: Caller, @Param('id', executionId) id: string): Promise<void> {
    await this.actions.delete(id, caller.tenant);
  }

  /**
   * A new execution once the tenant's limits admit it; with an idempotency key, a repeat (the same
   * `body`, by its fingerprint, hashed only then) returns the first one, admitting nothing.
   */
  private async submitAdmitted(
    submission: Submission,
    tenant: string,
    idempotencyKey: string | undefined,
    body: unknown,
  ): Promise<{ execution: ExecutionView; created: boolean; rateLimit: RateLimitState | null }> {
    if (!idempotencyKey) {
      const { created, admitted } = await this.quota.admitAndCreate(tenant, 1, () => this.submitter.submit(submission, tenant));
      return { execution: created, created: true, rateLimit: admitted };
    }
    const outcome = await this.submitter.submitOnce(idempotencyKey, fingerprint(body), submission, tenant, (create) =>
      this.quota.admitAndCreate(tenant, 1, create),
    );
    return { ...outcome, rateLimit: outcome.created ? outcome.admitted : await this.quota.peek(tenant) };
  }

  /** Where a visible execution lives; a token's out-of-scope id reads as unknown, as another tenant's does. */
  private async locate(caller: Caller, id: string) {
    if (caller.principal.kind === 'token') {
      const execution = await this.get(caller, id);
      return { queue: execution.queue };
    }
    const location = await this.store.locate(id);
    if (!location || !inTenant(caller.tenant, location.tenant)) throw ApiError.notFound(`Execution ${id}`);
    return location;
  }
}
