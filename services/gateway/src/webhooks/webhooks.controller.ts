import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  CreateWebhookDto,
  ListDeliveriesQueryDto,
  RotateWebhookSecretDto,
  UpdateWebhookDto,
  type WebhookDeliveryView,
  type WebhookView,
  type WebhookWithSecret,
} from '@conveyor/contracts';
import type { Caller } from '@conveyor/identity';
import { Access, ApiRoute, CallerOf } from '@conveyor/service';
import { defaultSecretOverlapSeconds, toView, WebhookStore, type WebhookChange } from '@conveyor/webhooks';
import { parseRequest } from '../http/parse-request.js';
import { webhookId } from '../http/request-guards.js';
import { Traced } from '../http/traced-requests.js';
import { WebhookDeliveries } from './webhook-deliveries.js';

/** A tenant's outbound webhook endpoints and their delivery logs. */
@Controller('v1/webhooks')
@Access('write')
@Traced()
export class WebhooksController {
  constructor(
    private readonly store: WebhookStore,
    private readonly deliveries: WebhookDeliveries,
  ) {}

  /** The secret is in this answer (and `/rotate-secret`'s) only. */
  @Post()
  @ApiRoute({ summary: 'Create a webhook endpoint', body: 'CreateWebhookDto', answers: { 201: 'WebhookWithSecret' }, headers: ['Location'] })
  async create(@CallerOf() caller: Caller, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookWithSecret> {
    const { url, events, filters, description } = parseRequest(CreateWebhookDto, body);
    const created = await this.store.create(caller.writeTenant, { url, events, filters: filters ? { ...filters } : null, description: description ?? null });
    reply.status(201).header('location', `/v1/webhooks/${created.id}`);
    return created;
  }

  @Get()
  @Access('read')
  @ApiRoute({ summary: 'List webhook endpoints', answers: { 200: 'WebhookItems' } })
  async list(@CallerOf() caller: Caller): Promise<{ items: WebhookView[] }> {
    return { items: (await this.store.list(caller.tenant)).map(toView) };
  }

  @Get(':id')
  @Access('read')
  @ApiRoute({ summary: 'Read a webhook endpoint', answers: { 200: 'WebhookView' } })
  async get(@CallerOf() caller: Caller, @Param('id', webhookId) id: string): Promise<WebhookView> {
    return toView(await this.store.get(id, caller.tenant));
  }

  /** The fields given replace the endpoint's; `enabled: true` turns a disabled endpoint on again. */
  @Patch(':id')
  @ApiRoute({ summary: 'Change a webhook endpoint', body: 'UpdateWebhookDto', answers: { 200: 'WebhookView' } })
  async update(@CallerOf() caller: Caller, @Param('id', webhookId) id: string, @Body() body: unknown): Promise<WebhookView> {
    const patch = parseRequest(UpdateWebhookDto, body);
    const record = await this.store.get(id, caller.tenant);
    const change: WebhookChange = {};
    if (patch.url !== undefined) change.url = patch.url;
    if (patch.events !== undefined) change.events = patch.events;
    if (patch.filters !== undefined) change.filters = patch.filters ? { ...patch.filters } : null;
    if (patch.description !== undefined) change.description = patch.description;
    if (patch.enabled !== undefined) change.enabled = patch.enabled;
    return this.store.update(record, change);
  }

  /** Its pending deliveries are dropped as they come up. */
  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({ summary: 'Delete a webhook endpoint', answers: { 204: null } })
  async delete(@CallerOf() caller: Caller, @Param('id', webhookId) id: string): Promise<void> {
    await this.store.delete(await this.store.get(id, caller.tenant));
  }

  /** Sends a signed `webhook.test` envelope now (it shows in the deliveries like any other). */
  @Post(':id/test')
  @HttpCode(202)
  @ApiRoute({ summary: 'Send a test delivery', answers: { 202: 'WebhookDeliveryView' } })
  async test(@CallerOf() caller: Caller, @Param('id', webhookId) id: string): Promise<WebhookDeliveryView> {
    return this.deliveries.sendTest(await this.store.get(id, caller.tenant));
  }

  /** A new secret; deliveries carry a second signature with the old one for `overlapSeconds` (default a day). */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiRoute({ summary: "Rotate a webhook endpoint's secret", body: 'RotateWebhookSecretDto', answers: { 200: 'WebhookWithSecret' } })
  async rotateSecret(@CallerOf() caller: Caller, @Param('id', webhookId) id: string, @Body() body: unknown): Promise<WebhookWithSecret> {
    const { overlapSeconds = defaultSecretOverlapSeconds } = parseRequest(RotateWebhookSecretDto, body);
    return this.store.rotateSecret(await this.store.get(id, caller.tenant), overlapSeconds);
  }

  @Get(':id/deliveries')
  @Access('read')
  @ApiRoute({ summary: "A webhook endpoint's deliveries, newest first, with each attempt", query: ListDeliveriesQueryDto, answers: { 200: 'WebhookDeliveryPage' } })
  async listDeliveries(@CallerOf() caller: Caller, @Param('id', webhookId) id: string, @Query() query: unknown): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> {
    const { limit = 50, cursor } = parseRequest(ListDeliveriesQueryDto, query);
    await this.store.get(id, caller.tenant);
    return this.store.deliveries(id, limit, cursor);
  }
}
