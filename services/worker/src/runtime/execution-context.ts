import { limits, NonRetryableError, type LogLevel } from '@conveyor/contracts';
import type { ExecutionStore, PendingAction } from '@conveyor/executions';
import type { ExecutionEvents } from './execution-events.js';

/** What a task handler gets besides its input. */
export interface ExecutionContext<State = unknown> {
  readonly executionId: string;
  readonly tenant: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborts with reason `cancel`, `timeout` or `shutdown`; pass it to fetch, streams and loops. */
  readonly signal: AbortSignal;
  /** The last checkpoint (after a crash, pause, shutdown or retry), else `undefined`. */
  readonly state: State | undefined;
  /** A pause was requested: checkpoint soon, it takes effect there. */
  readonly pauseRequested: boolean;
  /** Synchronous and coalesced: call it as often as you like. */
  progress(percent: number, step?: number | string, message?: string): void;
  log(line: string, level?: LogLevel): void;
  /**
   * Durable: a later attempt starts with `ctx.state` = this state. Where a requested pause takes effect (it throws then).
   * Rejects, storing nothing, with a `NonRetryableError` (`checkpoint_too_large`) for a state over 256 KiB as JSON.
   */
  checkpoint(state: State): Promise<void>;
}

/** The context of one attempt; once the attempt is over, whatever the handler still does is ignored. */
export class AttemptContext<State = unknown> implements ExecutionContext<State> {
  private ended = false;
  pauseRequested = false;

  constructor(
    private readonly events: ExecutionEvents,
    private readonly store: ExecutionStore,
    readonly attempt: number,
    readonly signal: AbortSignal,
    readonly state: State | undefined,
    /** Called with an action requested of the execution, as found at a checkpoint. */
    private readonly onRequest: (action: PendingAction) => void,
  ) {}

  get executionId(): string {
    return this.events.ref.id;
  }

  get tenant(): string {
    return this.events.ref.tenant;
  }

  progress(percent: number, step?: number | string, message?: string): void {
    if (this.ended) return;
    const bounded = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
    this.events.progress({
      percent: Math.round(bounded * 100) / 100,
      ...(step === undefined ? {} : { step }),
      ...(message === undefined ? {} : { message }),
    });
  }

  log(line: string, level: LogLevel = 'info'): void {
    if (!this.ended) this.events.log(String(line), level);
  }

  async checkpoint(state: State): Promise<void> {
    if (this.ended) return;
    const size = Buffer.byteLength(JSON.stringify(state) ?? '');
    // Not stored; a handler that lets this through fails without retry (the next attempt would write the same).
    if (size > limits.payloadBytes) throw new NonRetryableError(`Checkpoint of ${size} bytes is over the ${limits.payloadBytes}-byte limit`, 'checkpoint_too_large');
    const requested = await this.store.saveCheckpoint(this.events.ref, state);
    if (requested && !this.ended) {
      this.onRequest(requested);
      // The attempt is over (parked or cancelled): stop the handler here.
      this.signal.throwIfAborted();
    }
  }

  /** The attempt is over: later calls do nothing. */
  end(): void {
    this.ended = true;
  }
}
