import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { JobState } from 'bullmq';
import { ExecutionQueues, ExecutionStore, heldFor, type ExecutionRecord, type ExecutionRef } from '@conveyor/executions';
import { LOGGER, type Logger } from '@conveyor/service';
import { parseSlotMember, slotMember, slotRenewalMs, TenantLimitsStore, TenantSlots } from '@conveyor/tenants';
import { repeat } from './periodic.js';

/** How often every worker repairs what a crash or a race left in the tenants' slots. */
const reconcileIntervalMs = 1_000;
/** How often every worker brings the queues' sets of limited tenants in line with the limits. */
const limitedSyncIntervalMs = 10_000;

/** What becomes of a slot given to an execution that has not started on it yet. */
export type Settlement = 'promote' | 'keep' | 'release';

/**
 * A held execution's job (parked, its record saying why) is promoted; one waiting for a worker, or
 * starting, keeps the slot; any other (gone, ended, paused, waiting to retry) gives it back.
 */
export function settlement(state: JobState | 'unknown', record: ExecutionRecord | null): Settlement {
  if (record && heldFor(state, record)) return 'promote';
  return state === 'waiting' || state === 'prioritized' || state === 'active' ? 'keep' : 'release';
}

/**
 * `maxRunning` on the worker's side: takes a slot before an execution of a limited tenant starts,
 * renews its lease while it runs, gives it back when the execution ends or leaves the worker, and
 * promotes the held executions that slots are reserved for. Every second it reconciles each
 * tenant's slots, which repairs what a crash or a race left; it never moves a job otherwise.
 */
@Injectable()
export class TenantConcurrency implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  /** The executions running here on a slot, by id: their leases are renewed. */
  private readonly leased = new Map<string, ExecutionRef>();
  /** The tenants this process has registered for the reconciliation. */
  private readonly registered = new Set<string>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly limits: TenantLimitsStore,
    private readonly slots: TenantSlots,
    private readonly queues: ExecutionQueues,
    private readonly store: ExecutionStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Before the worker pool fetches jobs: a fetch records the start of an execution of a tenant not in its queue's limited set. */
  async onModuleInit(): Promise<void> {
    await this.limits.syncLimitedTenants();
  }

  onApplicationBootstrap(): void {
    this.timers = [
      repeat(limitedSyncIntervalMs, () => this.limits.syncLimitedTenants(), (err) => this.logger.warn({ err }, 'limited tenants not brought in line')),
      repeat(slotRenewalMs, () => this.renew(), (err) => this.logger.warn({ err }, 'slot leases not renewed')),
      repeat(reconcileIntervalMs, () => this.reconcile(), (err) => this.logger.warn({ err }, 'tenant slots not reconciled')),
    ];
  }

  /** Called after the worker pool has stopped (it depends on this through the runner): leases are renewed until then. */
  onApplicationShutdown(): void {
    this.timers.forEach((timer) => clearInterval(timer));
  }

  /**
   * Whether the tenant has `maxRunning` (its limits are cached): only then does `admit` take a slot.
   * `confirm` reads a cached limit again, for a start that its queue's set of limited tenants let
   * through: a removal reaches that set at once, and a stale limit would hold the execution again.
   */
  async isLimited(tenant: string, { confirm = false } = {}): Promise<boolean> {
    if ((await this.limits.get(tenant)).maxRunning === undefined) return false;
    return !confirm || (await this.limits.get(tenant, { fresh: true })).maxRunning !== undefined;
  }

  /**
   * Whether the execution may start: always for a tenant without `maxRunning` (nothing more is
   * read); else when it takes a slot. Otherwise it is among the tenant's held executions, and the
   * caller parks it, then calls `parked`.
   */
  async admit(ref: ExecutionRef, priority: number): Promise<boolean> {
    const { maxRunning } = await this.limits.get(ref.tenant);
    if (maxRunning === undefined) return true;
    await this.register(ref.tenant);
    const { admitted, promote } = await this.slots.admit(ref.tenant, slotMember(ref), priority, maxRunning);
    if (admitted) this.leased.set(ref.id, ref);
    await this.settle(ref.tenant, promote);
    return admitted;
  }

  /** A slot reserved for a held execution before its job was parked could not promote it then: now it can. */
  async parked(ref: ExecutionRef): Promise<void> {
    const member = slotMember(ref);
    if (await this.slots.isReserved(ref.tenant, member)) await this.settle(ref.tenant, [member]);
  }

  /**
   * The execution ended, was parked or went back to the queue: its slot (or the one reserved for it,
   * or its place among the held) goes to the best held execution. Without a lease here nor a limit,
   * nothing is read.
   */
  async release(ref: ExecutionRef): Promise<void> {
    const leased = this.leased.delete(ref.id);
    const { maxRunning } = await this.limits.get(ref.tenant);
    if (!leased && maxRunning === undefined) return;
    await this.settle(ref.tenant, await this.slots.release(ref.tenant, slotMember(ref), maxRunning));
  }

  /**
   * Promotes the jobs given slots; a slot whose execution will not start on it goes on to the next.
   * Without a limit any more, each is let go once its job is settled, but for one whose job is
   * active: refused a slot before the limit went, it may be about to be parked, and must stay held
   * until the reconciliation finds it parked and promotes it. Never throws: what fails here (the
   * execution it runs for is not concerned) stays reserved or held, and the reconciliation retries.
   */
  private async settle(tenant: string, members: string[]): Promise<void> {
    try {
      for (let pending = members; pending.length > 0; ) {
        const settled = await Promise.all(pending.map((member) => this.settleOne(member)));
        const { maxRunning } = await this.limits.get(tenant);
        const unused = pending.filter((_, i) => (maxRunning === undefined ? settled[i].state !== 'active' : settled[i].outcome === 'release'));
        pending = (await Promise.all(unused.map((member) => this.slots.release(tenant, member, maxRunning)))).flat();
      }
    } catch (err) {
      this.logger.warn({ err, tenant }, 'held executions not promoted; the reconciliation will retry');
    }
  }

  /** Promotes the member's job if it is held; tells what became of its slot, and the state its job was found in. */
  private async settleOne(member: string): Promise<{ outcome: Settlement; state: JobState | 'unknown' }> {
    const { id, queue: queueName } = parseSlotMember(member);
    const queue = this.queues.get(queueName);
    const [record, state] = await Promise.all([this.store.read(queueName, id), queue.getJobState(id)]);
    const outcome = settlement(state, record);
    if (outcome !== 'promote') return { outcome, state };
    const job = await queue.getJob(id);
    this.logger.info({ executionId: id, queue: queueName, task: record?.task, tenant: record?.tenant }, 'a tenant slot is free: promoting a held execution');
    // Refused when another worker promoted it first: as good. Any other failure is retried later.
    await job?.promote().catch(async (error: unknown) => {
      if ((await queue.getJobState(id)) === 'delayed') throw error;
    });
    return { outcome: 'keep', state };
  }

  private async renew(): Promise<void> {
    const byTenant = new Map<string, string[]>();
    for (const ref of this.leased.values()) byTenant.set(ref.tenant, [...(byTenant.get(ref.tenant) ?? []), slotMember(ref)]);
    await Promise.all([...byTenant].map(([tenant, members]) => this.slots.renew(tenant, members)));
  }

  private async reconcile(): Promise<void> {
    const tenants = await this.slots.tenants();
    await Promise.all(
      tenants.map(async (tenant) => {
        const { maxRunning } = await this.limits.get(tenant);
        await this.settle(tenant, await this.slots.reconcile(tenant, maxRunning));
      }),
    );
  }

  private async register(tenant: string): Promise<void> {
    if (this.registered.has(tenant)) return;
    await this.slots.register(tenant);
    this.registered.add(tenant);
  }
}
