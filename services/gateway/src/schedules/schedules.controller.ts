import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ScheduleNotFoundError, type AnyTask, type SchedulePreviewView, type ScheduleView } from '@conveyor/contracts';
import { ExecutionFinder, type ExecutionPage } from '@conveyor/executions';
import { ScheduleService, ScheduleTicks } from '@conveyor/schedules';
import type { Caller } from '@conveyor/identity';
import { Access, ApiError, ApiRoute, CallerOf } from '@conveyor/service';
import { ListExecutionsQueryDto, parseListQuery } from '../executions/execution-requests.dto.js';
import { OFFERED_TASKS } from '../gateway-config.js';
import { scheduleId } from '../http/request-guards.js';
import { Traced } from '../http/traced-requests.js';
import { mergeSchedulePatch, previewSchedule, validateScheduleDefinition } from './schedule-definition.js';

@Controller('v1/schedules')
@Access('write')
@Traced()
export class SchedulesController {
  constructor(
    private readonly schedules: ScheduleService,
    private readonly ticks: ScheduleTicks,
    private readonly finder: ExecutionFinder,
    @Inject(OFFERED_TASKS) private readonly tasks: readonly AnyTask[],
  ) {}

  @Post()
  @ApiRoute({ summary: 'Create a schedule', body: 'CreateSchedule', answers: { 201: 'ScheduleView' }, errors: [409], headers: ['Location'] })
  async create(@CallerOf() caller: Caller, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<ScheduleView> {
    const tenant = caller.writeTenant;
    const validated = validateScheduleDefinition(body, this.tasks);
    if (!validated.ok) throw ApiError.validation(validated.errors);
    const schedule = await this.schedules.create(validated.value.definition, validated.value.enabled, tenant);
    reply.status(201).header('location', `/v1/schedules/${schedule.id}`);
    return schedule;
  }

  /** Changes nothing: any role may ask, as the dashboard's cron field does while one types. */
  @Post('preview')
  @HttpCode(200)
  @Access('read')
  @ApiRoute({ summary: 'The next times of a cron (in its zone) or every trigger', body: 'SchedulePreviewDto', answers: { 200: 'SchedulePreview' } })
  preview(@Body() body: unknown): SchedulePreviewView {
    const times = previewSchedule(body);
    if (!times.ok) throw ApiError.validation(times.errors);
    return { items: times.value };
  }

  @Get()
  @Access('read')
  @ApiRoute({ summary: 'List schedules', answers: { 200: 'ScheduleItems' } })
  async list(@CallerOf() caller: Caller): Promise<{ items: ScheduleView[] }> {
    return { items: await this.schedules.list(caller.tenant) };
  }

  @Get(':id')
  @Access('read', { tokens: true })
  @ApiRoute({ summary: 'Read a schedule', answers: { 200: 'ScheduleView' } })
  async get(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.view(await this.visible(caller, id));
  }

  /** A JSON merge patch of the definition (or `enabled`); it takes effect from the next tick. */
  @Patch(':id')
  @ApiRoute({ summary: 'Change a schedule (JSON merge patch)', body: 'SchedulePatch', answers: { 200: 'ScheduleView' }, errors: [409] })
  async update(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string, @Body() patch: unknown): Promise<ScheduleView> {
    const record = await this.schedules.get(id, caller.tenant);
    const validated = validateScheduleDefinition(mergeSchedulePatch(record.definition, record.enabled, patch), this.tasks);
    if (!validated.ok) throw ApiError.validation(validated.errors);
    return this.schedules.update(record, validated.value.definition, validated.value.enabled);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({ summary: 'Delete a schedule', answers: { 204: null } })
  async delete(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string): Promise<void> {
    await this.schedules.delete(id, caller.tenant);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiRoute({ summary: 'Enable a schedule (also clears a failure pause)', answers: { 200: 'ScheduleView' } })
  enable(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.enable(id, caller.tenant);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiRoute({ summary: 'Disable a schedule', answers: { 200: 'ScheduleView' } })
  disable(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.disable(id, caller.tenant);
  }

  /** Fires once now through the tick path (not counted toward `limit`, not shifting the timing). */
  @Post(':id/run-now')
  @HttpCode(200)
  @ApiRoute({ summary: 'Fire a schedule once now', answers: { 200: 'ScheduleView' }, errors: [409, 429] })
  async runNow(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string): Promise<ScheduleView> {
    await this.schedules.get(id, caller.tenant);
    await this.ticks.fire(id, Date.now(), true);
    return this.schedules.view(await this.schedules.get(id, caller.tenant));
  }

  /** The schedule's executions, newest first, filtered and paged like `GET /v1/executions`. */
  @Get(':id/runs')
  @Access('read', { tokens: true })
  @ApiRoute({ summary: "A schedule's executions, newest first", query: ListExecutionsQueryDto, answers: { 200: 'ExecutionPage' } })
  async runs(@CallerOf() caller: Caller, @Param('id', scheduleId) id: string, @Query() query: unknown): Promise<ExecutionPage> {
    const { tenant } = await this.visible(caller, id);
    const { limit, cursor, include, filters } = parseListQuery(query);
    return this.finder.find(tenant, { ...filters, scheduleId: [id] }, limit, cursor, include);
  }

  /** The schedule, if the caller may read it (a token: one it names, or its whole tenant). */
  private async visible(caller: Caller, id: string) {
    const record = await this.schedules.get(id, caller.tenant);
    if (!caller.sees({ schedule: id, tenant: record.tenant })) throw new ScheduleNotFoundError(id);
    return record;
  }
}
