import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  CreateScheduleHookDto,
  idempotencyKeyMessage,
  idempotencyKeyPattern,
  InvalidSignatureError,
  isPlainObject,
  NotFoundError,
  ScheduleDefinitionError,
  verifyWebhook,
  type AnyTask,
  type CreatedScheduleHookView,
  type HookRunView,
  type ScheduleHookView,
} from '@conveyor/contracts';
import type { Caller } from '@conveyor/identity';
import { hookRunKey, ScheduleHooks, ScheduleService, ScheduleTicks, type StoredHook } from '@conveyor/schedules';
import { Access, ApiError, ApiRoute, CallerOf } from '@conveyor/service';
import { CreatesExecutions, LoggedExecutions } from '../executions/logged-executions.js';
import { fingerprint, isInputTooLarge, unknownTask, validateTaskInput } from '../executions/submission.js';
import { OFFERED_TASKS } from '../gateway-config.js';
import { bodyBytesOf } from '../http/json-body.js';
import { parseRequest } from '../http/parse-request.js';
import { hookId, scheduleId } from '../http/request-guards.js';
import { Traced } from '../http/traced-requests.js';
import { applyMergePatch } from './merge-patch.js';

/** The route of a hook's call: the gateway keeps its body's text, which a signature signs. */
export const hookCallRoute = '/v1/hooks/:token';

/**
 * Inbound hooks: trigger URLs of a schedule, made, listed and revoked by its tenant, and called by
 * other systems with no key (the token in the URL is the credential), optionally signed.
 */
@Controller()
@Traced()
@UseInterceptors(LoggedExecutions)
export class ScheduleHooksController {
  constructor(
    private readonly schedules: ScheduleService,
    private readonly hooks: ScheduleHooks,
    private readonly ticks: ScheduleTicks,
    @Inject(OFFERED_TASKS) private readonly tasks: readonly AnyTask[],
  ) {}

  /** The URL and secret are shown only here. */
  @Post('v1/schedules/:id/hooks')
  @Access('write')
  @ApiRoute({ summary: 'Make an inbound hook (a trigger URL) of a schedule', body: CreateScheduleHookDto.name, answers: { 201: 'CreatedScheduleHookView' } })
  async create(
    @CallerOf() caller: Caller,
    @Param('id', scheduleId) id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedScheduleHookView> {
    const { description } = parseRequest(CreateScheduleHookDto, body);
    const schedule = await this.schedules.get(id, caller.tenant);
    const { token, secret, hook } = await this.hooks.create(schedule, description ?? null);
    reply.status(201);
    return { ...hook, url: `${request.protocol}://${request.host}/v1/hooks/${token}`, secret };
  }

  @Get('v1/schedules/:id/hooks')
  @Access('read')
  @ApiRoute({ summary: "A schedule's inbound hooks (without their URLs or secrets)", answers: { 200: 'ScheduleHookItems' } })
  async list(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string): Promise<{ items: ScheduleHookView[] }> {
    return { items: await this.hooks.list(await this.schedules.get(id, caller.tenant)) };
  }

  /** Its URL stops working at once. */
  @Delete('v1/schedules/:id/hooks/:hookId')
  @Access('write')
  @HttpCode(204)
  @ApiRoute({ summary: 'Revoke an inbound hook', answers: { 204: null } })
  async revoke(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string, @Param('hookId', hookId) hook: string): Promise<void> {
    await this.hooks.revoke(await this.schedules.get(id, caller.tenant), hook);
  }

  /**
   * A call: its JSON body is a merge patch over the schedule's input; the result is validated as a
   * submission's input is and run through the run-now path. `202` with the new execution's id; `200`
   * with the first one when an `Idempotency-Key` repeats a call.
   */
  @Post('v1/hooks/:token')
  @Access('public')
  @CreatesExecutions()
  @ApiRoute({ summary: "Call an inbound hook: run its schedule, the body merged over the schedule's input", body: 'HookPatch', answers: { 202: 'HookRunView', 200: 'HookRunView' }, errors: [401, 409, 429] })
  @ApiHeader({ name: 'conveyor-signature', required: false, description: "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">` with the hook's secret; when sent, it must verify." })
  @ApiHeader({ name: 'idempotency-key', required: false, description: 'The same key and body again answers the first execution.' })
  async call(
    @Param('token') token: string,
    @Body() body: unknown,
    @Headers('conveyor-signature') signature: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<HookRunView> {
    // The token is never echoed: error messages can end up in logs.
    const hook = await this.hooks.resolve(token);
    if (!hook) throw new NotFoundError('A hook with this token (unknown or revoked)');
    if (signature !== undefined && !(await verifyWebhook(bodyBytesOf(request) ?? '', signature, hook.secret))) throw new InvalidSignatureError();
    const patch = body ?? {};
    if (!isPlainObject(patch)) throw ApiError.validation([{ path: '(body)', message: "must be a JSON object (Content-Type: application/json): a merge patch of the schedule's input" }]);
    if (idempotencyKey !== undefined && !idempotencyKeyPattern.test(idempotencyKey)) {
      throw ApiError.validation([{ path: 'Idempotency-Key', message: idempotencyKeyMessage }]);
    }
    const input = await this.mergedInput(hook, patch);
    const { execution, created } = await this.ticks.fireHook(hook.scheduleId, {
      input,
      key: hookRunKey(hook.scheduleId, hook.id, idempotencyKey),
      fingerprint: fingerprint({ patch }),
    });
    reply.status(created ? 202 : 200);
    return { id: execution.id };
  }

  /** The schedule's input with the patch applied, validated against its task's input class (`input.<path>` names a bad field). */
  private async mergedInput(hook: StoredHook, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { definition } = await this.schedules.get(hook.scheduleId, hook.tenant);
    const merged = applyMergePatch(definition.input, patch);
    if (isInputTooLarge({ input: merged })) throw ApiError.payloadTooLarge('The merged input is larger than 256 KiB.');
    const { task, input } = validateTaskInput({ task: definition.task, input: merged }, (field) => field, this.tasks);
    if (!task) throw new ScheduleDefinitionError(hook.scheduleId, [unknownTask('task', this.tasks)]);
    if (!input?.ok) throw ApiError.validation(input ? input.errors : []);
    return { ...input.value };
  }
}
