/**
 * Every Redis key and channel Conveyor uses, built in one place.
 * Each key of a queue (BullMQ's and Conveyor's) carries the queue's hash tag, `<prefix>:{<queue>}:…`,
 * so that one Lua script can touch them together and a move to Redis Cluster moves no data.
 * A tenant's own keys (usage counters, concurrency slots) span its queues: they carry the tenant's
 * tag, `{tenant:<name>}`, and no script or transaction ever mixes them with a queue's keys.
 * These names are persisted: changing one strands existing data.
 */
import type { ExecutionStatus } from '@conveyor/contracts/core';
import type { ExecutionEventKeys } from './scripts.js';

export type IndexDimension = 'all' | 'status' | 'task' | 'tag' | 'schedule';

export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The BullMQ queue name; with `prefix` as BullMQ's prefix its keys become `<prefix>:{<queue>}:…`. */
  bullQueueName(queue: string): string {
    return `{${queue}}`;
  }

  /** The catalogue queue name behind a BullMQ queue name. */
  queueOfBullName(bullQueueName: string): string {
    return bullQueueName.replace(/^\{(.*)\}$/, '$1');
  }

  /** BullMQ's hash of a job (an execution's, by its id). */
  job(queue: string, id: string): string {
    return this.tagged(queue, id);
  }

  execution(queue: string, id: string): string {
    return this.tagged(queue, 'execution', id);
  }

  executionEvents(queue: string, id: string): string {
    return this.tagged(queue, 'execution', id, 'events');
  }

  executionLogs(queue: string, id: string): string {
    return this.tagged(queue, 'execution', id, 'logs');
  }

  executionCheckpoint(queue: string, id: string): string {
    return this.tagged(queue, 'execution', id, 'checkpoint');
  }

  /**
   * A tenant's list index in a queue: a sorted set of execution ids (ULIDs, so their lexical order is
   * their age), one per dimension and value — `tag:<t>`, `schedule:<id>`. Earlier versions also kept
   * `status:<s>` and `task:<t>` (and `all`, of yet earlier ones) beside them: those are read by lists
   * and drained as their executions move or go; an execution's status and task are now one index
   * (`statusIndex`).
   */
  index(queue: string, tenant: string, dimension: IndexDimension, value = ''): string {
    return this.tagged(queue, 'index', tenant, ...(dimension === 'all' ? ['all'] : [dimension, value]));
  }

  /**
   * Sorted set: the tenant's executions in the queue of one status and task, by id (see `index`): one
   * entry an execution, which the event scripts move as its status changes; `indexedTasks` says which
   * tasks have them.
   */
  statusIndex(queue: string, tenant: string, status: ExecutionStatus, task: string): string {
    return `${this.statusIndexPrefix(queue, tenant)}${status}:task:${task}`;
  }

  /** Every index that may hold the tenant's executions in the queue of `status`: one per task, and the earlier versions' one. */
  statusIndexesOf(queue: string, tenant: string, status: ExecutionStatus, tasks: readonly string[]): string[] {
    return [...tasks.map((task) => this.statusIndex(queue, tenant, status, task)), this.index(queue, tenant, 'status', status)];
  }

  /**
   * What the event scripts build the tenant's status indexes in the queue from: `<prefix><status>:task:<task>`
   * (`statusIndex`), and `<prefix><status>`, the earlier versions' index of a status, which they drain.
   */
  statusIndexPrefix(queue: string, tenant: string): string {
    return this.index(queue, tenant, 'status');
  }

  /** Set: the tasks of the tenant's executions in the queue (whose status indexes a list reads). */
  indexedTasks(queue: string, tenant: string): string {
    return this.tagged(queue, 'tasks', tenant);
  }

  /** Hash: status → how many of the tenant's executions in the queue have it (all tenants': `tenant` null). */
  statusCounts(queue: string, tenant: string | null): string {
    return tenant === null ? this.tagged(queue, 'counts') : this.tagged(queue, 'counts', tenant);
  }

  /** Set: the tenants with executions in the queue (an admin's lists span them). */
  tenants(queue: string): string {
    return this.tagged(queue, 'tenants');
  }

  /**
   * Hash: what the tenant's executions in the queue did in one minute (`minute`: epoch ms / 60,000):
   * `completed`, `failed`, and their waits to start as a histogram, `w<bucket>` → count (see
   * `waitBucketsPerOctave`). Written by the scripts that record starts and endings; expires after 2 h.
   */
  queueStats(queue: string, tenant: string, minute: number | string): string {
    return this.tagged(queue, 'stats', tenant, String(minute));
  }

  /** The keys of an execution's event scripts, in their order; `minute` names the minute whose stats its start or ending counts in. */
  executionEventKeys(queue: string, id: string, tenant: string, minute: number | string): ExecutionEventKeys {
    return [
      this.execution(queue, id),
      this.executionEvents(queue, id),
      this.eventsChannel(queue),
      this.statusCounts(queue, tenant),
      this.statusCounts(queue, null),
      this.finished(queue),
      this.queueStats(queue, tenant, minute),
      this.hookedTenants(queue),
      this.outbox(queue),
      this.statusIndexPrefix(queue, tenant),
      this.indexedTasks(queue, tenant),
    ];
  }

  /** Sorted set: the queue's terminal executions, scored by when they ended (for cleaning and retention). */
  finished(queue: string): string {
    return this.tagged(queue, 'finished');
  }

  /** Held by the one worker applying retention to the queue this interval. */
  retentionLock(queue: string): string {
    return this.tagged(queue, 'retention-lock');
  }

  /** Held by the one worker reading the queue's BullMQ events for changes made outside Conveyor (renewed while it reads). */
  outsideChangesReader(queue: string): string {
    return this.tagged(queue, 'outside-changes-reader');
  }

  /** String: the id of the queue's last BullMQ event whose outside change has been handled (where the next reader starts). */
  outsideChangesRead(queue: string): string {
    return this.tagged(queue, 'outside-changes-read');
  }

  /** Held by the one worker repairing the queue's unrecorded endings this interval. */
  endingsRepairLock(queue: string): string {
    return this.tagged(queue, 'endings-repair-lock');
  }

  /** Set: the tenants with at least one webhook endpoint (the event scripts put only their state events in the outbox). */
  hookedTenants(queue: string): string {
    return this.tagged(queue, 'hooked');
  }

  /**
   * Set: the tenants with `maxRunning` (kept beside their limits): a worker fetching one of their
   * executions takes a slot before it records the start, so the fetch does not record it.
   */
  limitedTenants(queue: string): string {
    return this.tagged(queue, 'limited');
  }

  /** Stream: the queue's state events of hooked tenants, written by the event scripts, read by the webhook relay. */
  outbox(queue: string): string {
    return this.tagged(queue, 'outbox');
  }

  /** The BullMQ queue of webhook deliveries (Conveyor's own, apart from every catalogue queue's tag). */
  webhookDeliveryQueue(): string {
    return '{webhook-deliveries}';
  }

  /** Hash: a webhook endpoint (url, events, filters, secrets, state). Global, under the `{webhooks}` tag. */
  webhook(id: string): string {
    return `${this.prefix}:{webhooks}:endpoint:${id}`;
  }

  /** Set: a tenant's webhook endpoint ids. */
  tenantWebhooks(tenant: string): string {
    return `${this.prefix}:{webhooks}:tenant:${tenant}`;
  }

  /** Sorted set (all scores 0): an endpoint's deliveries as `<created ms, 15 digits>/<delivery id>`, read newest first by lex. */
  webhookDeliveries(id: string): string {
    return `${this.prefix}:{webhooks}:endpoint:${id}:deliveries`;
  }

  /** Hash: delivery id → its record (event, status, attempts) as JSON. */
  webhookDeliveryRecords(id: string): string {
    return `${this.prefix}:{webhooks}:endpoint:${id}:delivery-records`;
  }

  /** Pub/sub channel of every event of the queue's executions. */
  eventsChannel(queue: string): string {
    return this.tagged(queue, 'events');
  }

  /** Pub/sub channel of requests to the workers of the queue (cancel …). */
  controlChannel(queue: string): string {
    return this.tagged(queue, 'control');
  }

  /** An idempotency key's claim: the first execution's id and its request's fingerprint. */
  idempotency(tenant: string, key: string): string {
    return this.ofTenant(tenant, 'idempotency', key);
  }

  schedule(queue: string, id: string): string {
    return this.tagged(queue, 'schedule', id);
  }

  scheduleEvents(queue: string, id: string): string {
    return this.tagged(queue, 'schedule', id, 'events');
  }

  /** Sorted set: the schedule's ticks that claimed a run and have not recorded it yet (tick time → tick time). */
  scheduleClaims(queue: string, id: string): string {
    return this.tagged(queue, 'schedule', id, 'claims');
  }

  /** Set: every schedule's id, of all tenants (for reconciling ticks with records). */
  scheduleIds(queue: string): string {
    return this.tagged(queue, 'schedule-ids');
  }

  /** Held by the one worker reconciling the schedules' ticks with their records this interval. */
  scheduleReconcileLock(queue: string): string {
    return this.tagged(queue, 'schedule-reconcile-lock');
  }

  /** Hash: a tenant's schedule names → ids (names are unique per tenant). */
  scheduleNames(queue: string, tenant: string): string {
    return this.tagged(queue, 'schedule-names', tenant);
  }

  /**
   * Hash: execution id → queue and tenant (ids alone do not say which queue holds them). Global, spread
   * over 32 hash tags by the id's last character (random), so that no one shard holds every id.
   */
  executionIndex(id: string): string {
    return `${this.prefix}:{ids:${id.slice(-1)}}:execution-index`;
  }

  /** The one execution index of earlier versions (read when the spread one lacks an id, and drained). */
  legacyExecutionIndex(): string {
    return `${this.prefix}:execution-index`;
  }

  /** Hash: managed API key id → its record (tenant, name, role, createdAt, hash). Global, under its own hash tag. */
  apiKeys(): string {
    return `${this.prefix}:{auth}:api-keys`;
  }

  /** Hash: SHA-256 of a managed API key → its id (the key itself is never stored). */
  apiKeyHashes(): string {
    return `${this.prefix}:{auth}:api-key-hashes`;
  }

  /** Hash: a schedule's inbound hooks, hook id → its record (JSON: description, secret, token hash), under its tenant's tag. */
  scheduleHooks(tenant: string, scheduleId: string): string {
    return this.ofTenant(tenant, 'schedule-hooks', scheduleId);
  }

  /** Hash: SHA-256 of an inbound hook's token → where its record is (JSON: tenant, schedule, hook); the token itself is never stored. */
  hookTokens(): string {
    return `${this.prefix}:{auth}:hook-tokens`;
  }

  /** Hash: tenant → its limits (JSON). Global, under its own hash tag. */
  tenantLimits(): string {
    return `${this.prefix}:{tenants}:limits`;
  }

  /** Sorted set: a tenant's new executions of the last second, one entry each (for `submitsPerSecond`). */
  tenantRecentSubmissions(tenant: string): string {
    return this.ofTenant(tenant, 'recent-submissions');
  }

  /** Counter: a tenant's new executions on a UTC day (`2026-11-30`). */
  tenantExecutionsOn(tenant: string, day: string): string {
    return this.ofTenant(tenant, 'executions', day);
  }

  /**
   * Sorted set: the executions holding one of the tenant's `maxRunning` slots, as `<id>/<queue>` →
   * when the lease ends (`+inf` while the slot is reserved for a held execution that has not started).
   */
  tenantSlots(tenant: string): string {
    return this.ofTenant(tenant, 'slots');
  }

  /** Sorted set: the slots reserved for held executions not started yet, `<id>/<queue>` → when to check on the job. */
  tenantReservations(tenant: string): string {
    return this.ofTenant(tenant, 'reserved');
  }

  /** Sorted set: the tenant's held executions, `<id>/<queue>` → priority (equal priorities in id order: by age). */
  tenantHeld(tenant: string): string {
    return this.ofTenant(tenant, 'held');
  }

  /** Set: the tenants whose executions have taken slots (the workers' reconciliation visits each). */
  concurrencyTenants(): string {
    return `${this.prefix}:{tenants}:concurrency`;
  }

  private tagged(queue: string, ...parts: string[]): string {
    return [this.prefix, `{${queue}}`, ...parts].join(':');
  }

  /** A tenant's usage counters and concurrency slots, under the tenant's own hash tag, so that one script changes them together. */
  private ofTenant(tenant: string, ...parts: string[]): string {
    return [this.prefix, `{tenant:${tenant}}`, ...parts].join(':');
  }
}
