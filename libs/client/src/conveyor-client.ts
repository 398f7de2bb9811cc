import type {
  ConveyorEvent,
  ExecutionStatus,
  ExecutionView,
  QueueView,
  ScheduleView,
  TaskName,
  TaskOf,
  TaskInput,
} from '@conveyor/contracts';
import { ConveyorApiError } from './api-error.js';
import { ExecutionWatch, type WatchHandlers } from './execution-watch.js';
import { RealtimeConnection } from './realtime-connection.js';

/** What a submission may set besides the task and its input (unset: the task's defaults). */
export interface SubmitOptions {
  priority?: 'critical' | 'high' | 'normal' | 'low' | number;
  delayMs?: number;
  runAt?: string;
  attempts?: number;
  backoff?: { type: 'exponential' | 'fixed'; delayMs: number; jitter?: number };
  timeoutMs?: number;
  tags?: string[];
  idempotencyKey?: string;
}

export interface ListFilters {
  status?: ExecutionStatus[];
  task?: string[];
  queue?: string[];
  tag?: string[];
  scheduleId?: string[];
  limit?: number;
  cursor?: string;
}

export interface ExecutionList {
  items: ExecutionView[];
  nextCursor: string | null;
  totals: Record<ExecutionStatus, number>;
}

export interface ClientOptions {
  /** The gateway, e.g. `http://localhost:3000`. */
  apiUrl: string;
  /** The monitor, for `watch` (e.g. `http://localhost:3001`). */
  monitorUrl?: string;
  /** An API key, once auth is on. */
  token?: string;
}

/**
 * The typed Conveyor client, for Node and browsers (no framework inside): REST calls, and `watch`
 * for an execution's live events over socket.io.
 */
export class ConveyorClient {
  private realtime: RealtimeConnection | null = null;

  constructor(private readonly options: ClientOptions) {}

  /** Submits an execution; the input is typed by the task's name. */
  submit<N extends TaskName>(task: N, input: TaskInput<TaskOf<N>>, options: SubmitOptions = {}): Promise<ExecutionView> {
    return this.request('POST', '/v1/executions', { task, input, ...options });
  }

  submitBatch(executions: ({ task: TaskName; input?: object } & SubmitOptions)[]): Promise<{ items: ExecutionView[] }> {
    return this.request('POST', '/v1/executions/batch', { executions });
  }

  get(id: string): Promise<ExecutionView> {
    return this.request('GET', `/v1/executions/${encodeURIComponent(id)}`);
  }

  list(filters: ListFilters = {}): Promise<ExecutionList> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) {
      if (value !== undefined) query.set(name, Array.isArray(value) ? value.join(',') : String(value));
    }
    return this.request('GET', `/v1/executions${query.size > 0 ? `?${query}` : ''}`);
  }

  events(id: string, since = 0): Promise<{ items: ConveyorEvent[] }> {
    return this.request('GET', `/v1/executions/${encodeURIComponent(id)}/events?since=${since}`);
  }

  cancel(id: string, reason?: string): Promise<ExecutionView> {
    return this.request('POST', `/v1/executions/${encodeURIComponent(id)}/cancel`, reason === undefined ? {} : { reason });
  }

  pause(id: string): Promise<ExecutionView> {
    return this.request('POST', `/v1/executions/${encodeURIComponent(id)}/pause`);
  }

  resume(id: string): Promise<ExecutionView> {
    return this.request('POST', `/v1/executions/${encodeURIComponent(id)}/resume`);
  }

  retry(id: string): Promise<ExecutionView> {
    return this.request('POST', `/v1/executions/${encodeURIComponent(id)}/retry`);
  }

  delete(id: string): Promise<void> {
    return this.request('DELETE', `/v1/executions/${encodeURIComponent(id)}`);
  }

  readonly schedules = {
    create: (definition: Record<string, unknown>): Promise<ScheduleView> => this.request('POST', '/v1/schedules', definition),
    get: (id: string): Promise<ScheduleView> => this.request('GET', `/v1/schedules/${encodeURIComponent(id)}`),
    list: (): Promise<{ items: ScheduleView[] }> => this.request('GET', '/v1/schedules'),
    update: (id: string, patch: Record<string, unknown>): Promise<ScheduleView> => this.request('PATCH', `/v1/schedules/${encodeURIComponent(id)}`, patch),
    delete: (id: string): Promise<void> => this.request('DELETE', `/v1/schedules/${encodeURIComponent(id)}`),
    enable: (id: string): Promise<ScheduleView> => this.request('POST', `/v1/schedules/${encodeURIComponent(id)}/enable`),
    disable: (id: string): Promise<ScheduleView> => this.request('POST', `/v1/schedules/${encodeURIComponent(id)}/disable`),
    runNow: (id: string): Promise<ScheduleView> => this.request('POST', `/v1/schedules/${encodeURIComponent(id)}/run-now`),
    runs: (id: string): Promise<ExecutionList> => this.request('GET', `/v1/schedules/${encodeURIComponent(id)}/runs`),
  };

  queues(): Promise<{ items: QueueView[] }> {
    return this.request('GET', '/v1/queues');
  }

  /**
   * Follows an execution: the snapshot, then every event once and in order, resubscribing with the
   * last seq after a reconnect. `done` resolves with the execution once it has ended.
   */
  watch(id: string, handlers: WatchHandlers = {}): ExecutionWatch {
    if (!this.options.monitorUrl) throw new Error('watch needs monitorUrl');
    this.realtime ??= new RealtimeConnection(this.options.monitorUrl, this.options.token);
    return new ExecutionWatch(id, this.realtime, handlers, () => this.get(id));
  }

  /** Closes the socket.io connection, if any. */
  close(): void {
    this.realtime?.close();
    this.realtime = null;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, this.options.apiUrl), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      throw new ConveyorApiError(response.status, parsed?.code ?? 'http_error', parsed?.message ?? response.statusText, parsed?.details);
    }
    return parsed as T;
  }
}
