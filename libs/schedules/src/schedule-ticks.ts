import { activeStatuses, findTask, scheduleTickKeyPrefix, type ExecutionView } from '@conveyor/contracts';
import type { ExecutionReader, ExecutionSubmitter } from '@conveyor/executions';
import type { ScheduleRecord } from './schedule-record.js';
import type { ScheduleService } from './schedule-service.js';
import type { ScheduleStore } from './schedule-store.js';

/**
 * What a tick does — the same for BullMQ's ticks and for run-now: apply Conveyor's rules (state,
 * endAt, overlap, limit), then submit an ordinary execution with the idempotency key
 * `sch:<id>:<tickMs>`, so that a tick run twice never creates a second execution.
 */
export class ScheduleTicks {
  constructor(
    private readonly store: ScheduleStore,
    private readonly schedules: ScheduleService,
    private readonly submitter: ExecutionSubmitter,
    private readonly reader: ExecutionReader,
  ) {}

  /** Returns the execution it fired, or `null` when the tick was skipped or had fired already. */
  async fire(scheduleId: string, dueMs: number, manual: boolean): Promise<ExecutionView | null> {
    const record = await this.store.read(scheduleId);
    if (!record || (!manual && record.state !== 'active')) return null;
    const { definition } = record;
    // A one-off tick is due at its `at` (its delayed job does not keep the time it was due).
    const tickMs = !manual && definition.at !== null ? Date.parse(definition.at) : dueMs;
    const scheduledFor = new Date(tickMs).toISOString();
    if (!manual && definition.endAt !== null && tickMs > Date.parse(definition.endAt)) {
      await this.schedules.finish(record);
      return null;
    }
    const blocking = definition.overlap === 'skip' ? await this.stillRunning(record) : null;
    if (blocking) {
      await this.store.append(record, 'schedule.skipped', { scheduledFor, blockingExecutionId: blocking.id }, {});
      return null;
    }
    const task = findTask(definition.task);
    if (!task) return null;
    const { execution, created } = await this.submitter.submitOnce(
      `${scheduleTickKeyPrefix}${record.id}:${tickMs}${manual ? ':manual' : ''}`,
      'tick',
      {
        task,
        input: definition.input as never,
        options: {
          priority: definition.priority ?? undefined,
          attempts: definition.attempts ?? undefined,
          backoff: definition.backoff ?? undefined,
          timeoutMs: definition.timeoutMs ?? undefined,
          tags: definition.tags,
          scheduleId: record.id,
          scheduledFor: new Date(tickMs),
        },
      },
      record.tenant,
    );
    if (!created) return null;
    const runCount = manual ? record.runCount : await this.store.countRun(record.id);
    await this.store.append(record, 'schedule.fired', { executionId: execution.id, scheduledFor, manual }, {
      lastRunAt: Date.now(),
      lastExecutionId: execution.id,
      ...(manual || record.anchor !== null ? {} : { anchor: tickMs }),
    });
    const done = definition.at !== null || (definition.limit !== null && runCount >= definition.limit);
    if (!manual && done) await this.schedules.finish({ ...record, runCount });
    return execution;
  }

  /** The schedule's last execution, if it has not ended yet. */
  private async stillRunning(record: ScheduleRecord): Promise<ExecutionView | null> {
    if (!record.lastExecutionId) return null;
    const last = await this.reader.get(record.lastExecutionId, record.tenant);
    return last && activeStatuses.includes(last.status) ? last : null;
  }
}
