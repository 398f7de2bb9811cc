import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { defaultTenant, type AnyTask, type ScheduleView } from '@conveyor/contracts';
import { ExecutionFinder, type ExecutionPage } from '@conveyor/executions';
import { ScheduleService, ScheduleTicks } from '@conveyor/schedules';
import { ApiError } from '@conveyor/service';
import { parseListQuery } from '../executions/execution-requests.dto.js';
import { OFFERED_TASKS } from '../gateway-config.js';
import { scheduleId } from '../http/request-guards.js';
import { mergeSchedulePatch, validateScheduleDefinition } from './schedule-definition.js';

@Controller('v1/schedules')
export class SchedulesController {
  constructor(
    private readonly schedules: ScheduleService,
    private readonly ticks: ScheduleTicks,
    private readonly finder: ExecutionFinder,
    @Inject(OFFERED_TASKS) private readonly tasks: readonly AnyTask[],
  ) {}

  @Post()
  async create(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<ScheduleView> {
    const validated = validateScheduleDefinition(body, this.tasks);
    if (!validated.ok) throw ApiError.validation(validated.errors);
    const schedule = await this.schedules.create(validated.value.definition, validated.value.enabled, defaultTenant);
    reply.status(201).header('location', `/v1/schedules/${schedule.id}`);
    return schedule;
  }

  @Get()
  async list(): Promise<{ items: ScheduleView[] }> {
    return { items: await this.schedules.list(defaultTenant) };
  }

  @Get(':id')
  async get(@Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.view(await this.schedules.get(id, defaultTenant));
  }

  /** A JSON merge patch of the definition (or `enabled`); it takes effect from the next tick. */
  @Patch(':id')
  async update(@Param('id', scheduleId) id: string, @Body() patch: unknown): Promise<ScheduleView> {
    const record = await this.schedules.get(id, defaultTenant);
    const validated = validateScheduleDefinition(mergeSchedulePatch(record.definition, record.enabled, patch), this.tasks);
    if (!validated.ok) throw ApiError.validation(validated.errors);
    return this.schedules.update(record, validated.value.definition, validated.value.enabled);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id', scheduleId) id: string): Promise<void> {
    await this.schedules.delete(id, defaultTenant);
  }

  @Post(':id/enable')
  @HttpCode(200)
  enable(@Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.enable(id, defaultTenant);
  }

  @Post(':id/disable')
  @HttpCode(200)
  disable(@Param('id', scheduleId) id: string): Promise<ScheduleView> {
    return this.schedules.disable(id, defaultTenant);
  }

  /** Fires once now through the tick path (not counted toward `limit`, not shifting the timing). */
  @Post(':id/run-now')
  @HttpCode(200)
  async runNow(@Param('id', scheduleId) id: string): Promise<ScheduleView> {
    await this.schedules.get(id, defaultTenant);
    await this.ticks.fire(id, Date.now(), true);
    return this.schedules.view(await this.schedules.get(id, defaultTenant));
  }

  /** The schedule's executions, newest first, filtered and paged like `GET /v1/executions`. */
  @Get(':id/runs')
  async runs(@Param('id', scheduleId) id: string, @Query() query: unknown): Promise<ExecutionPage> {
    await this.schedules.get(id, defaultTenant);
    const { limit, cursor, include, filters } = parseListQuery(query);
    return this.finder.find(defaultTenant, { ...filters, scheduleId: [id] }, limit, cursor, include);
  }
}
