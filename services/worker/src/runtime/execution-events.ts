import type { EventDataMap, ExecutionEventType, ExecutionStatus, LogLevel } from '@conveyor/contracts';
import type { ExecutionRecord, ExecutionRef, ExecutionStore } from '@conveyor/executions';
import type { Logger } from '@conveyor/service';

/** Progress goes out at most this often per execution; the latest value wins in between. */
export const progressIntervalMs = 200;

type Progress = EventDataMap['execution.progress'];

/**
 * Publishes one execution's events from the worker. Progress is coalesced at the source;
 * pending progress is always written before the next state event, so `seq` order is the true order.
 */
export class ExecutionEvents {
  private pending: Progress | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastProgressAt = 0;
  private named: Logger | null = null;

  constructor(
    private readonly store: ExecutionStore,
    readonly ref: ExecutionRef,
    private readonly workerLogger: Logger,
  ) {}

  /** The worker's logger, every line of it naming this execution, its queue and task (made when first used: most runs log nothing). */
  get logger(): Logger {
    return (this.named ??= this.workerLogger.child({ executionId: this.ref.id, queue: this.ref.queue, task: this.ref.task }));
  }

  /** A `debug` line of the execution's: every run writes some, so the named logger is not made while they are off. */
  debug(fields: object, message: string): void {
    if (this.workerLogger.isLevelEnabled('debug')) this.logger.debug(fields, message);
  }

  progress(progress: Progress): void {
    this.pending = progress;
    if (this.timer) return;
    const wait = Math.max(0, this.lastProgressAt + progressIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.flush().catch((err) => this.logger.warn({ err }, 'progress not published'));
    }, wait);
  }

  /** Writes pending progress now. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const progress = this.pending;
    if (!progress) return;
    this.pending = null;
    this.lastProgressAt = Date.now();
    const { percent, step = null, message = null } = progress;
    await this.store.append(this.ref, 'execution.progress', progress, { progress: { percent, step, message } });
  }

  /** Appends a state event (dated `ts`, else now) after any pending progress; `null` when the execution no longer exists. */
  async state<T extends ExecutionEventType>(
    type: T,
    data: EventDataMap[T],
    fields: Partial<ExecutionRecord>,
    onlyFrom?: readonly ExecutionStatus[],
    ts?: string,
  ): Promise<number | null> {
    await this.flush();
    const seq = await this.store.append(this.ref, type, data, fields, onlyFrom, ts);
    // `debug`: a line per event at `info` cost a quarter of a worker's throughput (`bench/worker-throughput.ts`).
    if (seq !== null) this.debug({ event: type, seq }, type);
    return seq;
  }

  log(line: string, level: LogLevel): void {
    this.store.appendLog(this.ref, level, line).catch((err) => this.logger.warn({ err }, 'log line not stored'));
  }

  /** Drops pending progress without writing it (the attempt was abandoned). */
  discard(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
