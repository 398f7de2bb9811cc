import type {
  BackoffPolicy,
  ConveyorEvent,
  CreatedScheduleHookView,
  ExecutionStatus,
  ExecutionSummary,
  ExecutionView,
  HookRunView,
  ListInclude,
  LogLine,
  Priority,
  QueueStatsView,
  QueueView,
  ScheduleHookView,
  SchedulePreviewRequest,
  SchedulePreviewView,
  ScheduleView,
  TaskName,
  TaskOf,
  TaskInput,
  TaskView,
  WebhookDeliveryView,
  WebhookEventType,
  WebhookFilters,
  WebhookView,
  WebhookWithSecret,
} from '@conveyor/contracts';
import { sessionRequestHeader, signatureHeader, signWebhook } from '@conveyor/contracts/core';
import { ConveyorApiError } from './api-error.js';
import { ExecutionWatch, type WatchHandlers } from './execution-watch.js';
import { RealtimeConnection } from './realtime-connection.js';
import { RoomFollow, type RoomHandlers, type RoomRequest } from './room-follow.js';

/** What a submission may set besides the task and its input (unset: the task's defaults). */
export interface SubmitOptions {
  priority?: Priority;
  delayMs?: number;
  runAt?: string;
  attempts?: number;
  backoff?: BackoffPolicy;
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
  /** `['input', 'result']`: the items carry them (then `limit` is at most 50, and a page may stop early at 8 MiB). */
  include?: ListInclude[];
}

/** A page of executions: summaries, without `input` and `result` unless `include` asked for them. */
export interface ExecutionList {
  items: ExecutionSummary[];
  nextCursor: string | null;
  totals: Record<ExecutionStatus, number>;
}

/** A webhook endpoint to create: where to post, which state events, and optional filters. */
export interface WebhookInput {
  url: string;
  events: WebhookEventType[];
  filters?: WebhookFilters;
  description?: string;
}

export interface ClientOptions {
  /** The gateway, e.g. `http://localhost:3000`. */
  apiUrl: string;
  /** The monitor, for `watch` (e.g. `http://localhost:3001`). */
  monitorUrl?: string;
  /** An API key or a browser token, once auth is on. */
  token?: string;
  /**
   * Where a fresh credential comes from, for browser tokens, which expire: called before each REST
   * call and each (re)connect of the socket (the monitor ends a token's socket at its expiry; the
   * client then connects again with a new one and its watches resume where they were).
   */
  getToken?: () => string | Promise<string>;
  /**
   * For a page served by the gateway (the dashboard): REST rides its session cookie, with the
   * header that shows a request comes from a page of the site; `getToken` then serves the socket only.
   */
  session?: boolean;
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
    return this.request('GET', path`/v1/executions/${id}`);
  }

  list(filters: ListFilters = {}): Promise<ExecutionList> {
    return this.request('GET', `/v1/executions${queryOf(filters)}`);
  }

  /** The stored events after `since`, oldest first (at most `limit`, default all the log holds). */
  events(id: string, options: { since?: number; limit?: number } = {}): Promise<{ items: ConveyorEvent[] }> {
    return this.request('GET', path`/v1/executions/${id}/events` + queryOf(options));
  }

  /** The stored log lines (the last 1,000). */
  logs(id: string): Promise<{ items: LogLine[] }> {
    return this.request('GET', path`/v1/executions/${id}/logs`);
  }

  cancel(id: string, reason?: string): Promise<ExecutionView> {
    return this.request('POST', path`/v1/executions/${id}/cancel`, reason === undefined ? {} : { reason });
  }

  pause(id: string): Promise<ExecutionView> {
    return this.request('POST', path`/v1/executions/${id}/pause`);
  }

  resume(id: string): Promise<ExecutionView> {
    return this.request('POST', path`/v1/executions/${id}/resume`);
  }

  retry(id: string): Promise<ExecutionView> {
    return this.request('POST', path`/v1/executions/${id}/retry`);
  }

  delete(id: string): Promise<void> {
    return this.request('DELETE', path`/v1/executions/${id}`);
  }

  readonly schedules = {
    create: (definition: Record<string, unknown>): Promise<ScheduleView> => this.request('POST', '/v1/schedules', definition),
    get: (id: string): Promise<ScheduleView> => this.request('GET', path`/v1/schedules/${id}`),
    list: (): Promise<{ items: ScheduleView[] }> => this.request('GET', '/v1/schedules'),
    update: (id: string, patch: Record<string, unknown>): Promise<ScheduleView> => this.request('PATCH', path`/v1/schedules/${id}`, patch),
    delete: (id: string): Promise<void> => this.request('DELETE', path`/v1/schedules/${id}`),
    enable: (id: string): Promise<ScheduleView> => this.request('POST', path`/v1/schedules/${id}/enable`),
    disable: (id: string): Promise<ScheduleView> => this.request('POST', path`/v1/schedules/${id}/disable`),
    runNow: (id: string): Promise<ScheduleView> => this.request('POST', path`/v1/schedules/${id}/run-now`),
    /** The next times a cron (in its zone) or `every` trigger would fire, checked as a schedule's trigger is. */
    preview: (trigger: SchedulePreviewRequest): Promise<SchedulePreviewView> => this.request('POST', '/v1/schedules/preview', trigger),
    /** The schedule's executions, newest first, with the same filters and paging as `list`. */
    runs: (id: string, filters: Omit<ListFilters, 'scheduleId'> = {}): Promise<ExecutionList> =>
      this.request('GET', path`/v1/schedules/${id}/runs` + queryOf(filters)),
    /** Inbound hooks: trigger URLs of a schedule, each with a secret (both shown only by `create`). */
    hooks: {
      create: (id: string, options: { description?: string } = {}): Promise<CreatedScheduleHookView> => this.request('POST', path`/v1/schedules/${id}/hooks`, options),
      list: (id: string): Promise<{ items: ScheduleHookView[] }> => this.request('GET', path`/v1/schedules/${id}/hooks`),
      revoke: (id: string, hookId: string): Promise<void> => this.request('DELETE', path`/v1/schedules/${id}/hooks/${hookId}`),
    },
  };

  /**
   * Calls an inbound hook's URL (no credential: the URL holds it), `patch` merged over its schedule's
   * input; signed with `secret` when given. The id of the execution it started (or, for a repeated
   * `idempotencyKey`, of the first one).
   */
  async callHook(url: string, patch: Record<string, unknown> = {}, options: { secret?: string; idempotencyKey?: string } = {}): Promise<HookRunView> {
    const body = JSON.stringify(patch);
    return this.send(url, 'POST', body, {
      'content-type': 'application/json',
      ...(options.secret ? { [signatureHeader.toLowerCase()]: await signWebhook(body, [options.secret]) } : {}),
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    });
  }

  /** Signed outbound webhooks: endpoints of the caller's tenant, and their delivery logs. */
  readonly webhooks = {
    /** The answer holds the endpoint's `secret`: keep it, it is shown again only by `rotateSecret`. */
    create: (endpoint: WebhookInput): Promise<WebhookWithSecret> => this.request('POST', '/v1/webhooks', endpoint),
    get: (id: string): Promise<WebhookView> => this.request('GET', path`/v1/webhooks/${id}`),
    list: (): Promise<{ items: WebhookView[] }> => this.request('GET', '/v1/webhooks'),
    /** The fields given replace the endpoint's (`null` clears `filters` or `description`); `enabled: true` turns a disabled one on again. */
    update: (id: string, change: Partial<Omit<WebhookInput, 'filters' | 'description'>> & { filters?: WebhookFilters | null; description?: string | null; enabled?: boolean }): Promise<WebhookView> =>
      this.request('PATCH', path`/v1/webhooks/${id}`, change),
    delete: (id: string): Promise<void> => this.request('DELETE', path`/v1/webhooks/${id}`),
    /** Sends a signed `webhook.test` ping now. */
    test: (id: string): Promise<WebhookDeliveryView> => this.request('POST', path`/v1/webhooks/${id}/test`),
    /** A new secret; deliveries are signed with the old one too for `overlapSeconds` (default a day). */
    rotateSecret: (id: string, options: { overlapSeconds?: number } = {}): Promise<WebhookWithSecret> =>
      this.request('POST', path`/v1/webhooks/${id}/rotate-secret`, options),
    /** The endpoint's deliveries, newest first, each with its attempts. */
    deliveries: (id: string, options: { limit?: number; cursor?: string } = {}): Promise<{ items: WebhookDeliveryView[]; nextCursor: string | null }> =>
      this.request('GET', path`/v1/webhooks/${id}/deliveries` + queryOf(options)),
  };

  readonly queues = {
    list: (): Promise<{ items: QueueView[] }> => this.request('GET', '/v1/queues'),
    get: (name: string): Promise<QueueView> => this.request('GET', path`/v1/queues/${name}`),
    /** The last hour, minute by minute: endings, and the p50 / p95 wait from when due (submitted, or run-at) to start. */
    stats: (name: string): Promise<QueueStatsView> => this.request('GET', path`/v1/queues/${name}/stats`),
    pause: (name: string): Promise<QueueView> => this.request('POST', path`/v1/queues/${name}/pause`),
    resume: (name: string): Promise<QueueView> => this.request('POST', path`/v1/queues/${name}/resume`),
    retryFailed: (name: string): Promise<QueueView> => this.request('POST', path`/v1/queues/${name}/retry-failed`),
    /** Removes the queue's executions that ended with `status` (older than `olderThanMs`, at most `limit`). */
    clean: (name: string, options: { status: 'completed' | 'failed' | 'cancelled'; olderThanMs?: number; limit?: number }): Promise<{ removed: number }> =>
      this.request('POST', path`/v1/queues/${name}/clean`, options),
    /** At most this many of the queue's executions run at once across all workers; `null` removes the limit. */
    setConcurrency: (name: string, concurrency: number | null): Promise<QueueView> =>
      this.request('PUT', path`/v1/queues/${name}/concurrency`, { concurrency }),
  };

  /** The task catalogue: names, queues, descriptions, input schemas and defaults. */
  tasks(): Promise<{ items: TaskView[] }> {
    return this.request('GET', '/v1/tasks');
  }

  /**
   * Follows an execution: the snapshot, then every event once and in order (after `since` when
   * given, so `since: 0` replays the history first), resubscribing with the last seq after a
   * reconnect. `done` resolves with the execution once it has ended.
   */
  watch(id: string, handlers: WatchHandlers = {}, options: { since?: number } = {}): ExecutionWatch {
    return new ExecutionWatch(id, this.connection(), handlers, () => this.get(id), options.since);
  }

  /**
   * Follows a queue's room or the whole tenant's: the counts on joining, then every live event
   * (state changes, progress, `schedule.*`, `queue.*`), rejoining after reconnects.
   */
  follow(room: RoomRequest, handlers: RoomHandlers = {}): RoomFollow {
    return new RoomFollow(room, this.connection(), handlers);
  }

  /** The shared socket.io connection to the monitor, opened on first use. */
  connection(): RealtimeConnection {
    if (!this.options.monitorUrl) throw new Error('watching live events needs monitorUrl');
    return (this.realtime ??= new RealtimeConnection(this.options.monitorUrl, () => this.credential()));
  }

  /** Closes the socket.io connection, if any. */
  close(): void {
    this.realtime?.close();
    this.realtime = null;
  }

  private async credential(): Promise<string | undefined> {
    return this.options.getToken ? await this.options.getToken() : this.options.token;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = this.options.session ? undefined : await this.credential();
    return this.send(new URL(path, this.options.apiUrl), method, body === undefined ? undefined : JSON.stringify(body), {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(this.options.session ? { [sessionRequestHeader]: '1' } : {}),
    });
  }

  private async send<T>(url: string | URL, method: string, body: string | undefined, headers: Record<string, string>): Promise<T> {
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      throw new ConveyorApiError(response.status, parsed?.code ?? 'http_error', parsed?.message ?? response.statusText, parsed?.details, parsed?.detailsOmitted);
    }
    return parsed as T;
  }
}

/** `?name=value&…` of the options that are set (lists joined by commas), or nothing. */
function queryOf(options: object): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) query.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  return query.size > 0 ? `?${query}` : '';
}

/** A path with its interpolated parts URL-encoded: path`/v1/executions/${id}`. */
function path(strings: TemplateStringsArray, ...parts: (string | number)[]): string {
  return strings.reduce((joined, text, i) => joined + encodeURIComponent(String(parts[i - 1])) + text);
}
