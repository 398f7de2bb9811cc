import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConveyorEvent, ExecutionView, LogLine } from '@conveyor/contracts/core';
import { Card, ErrorNote, Fact, ItemTitle, Json, ProgressBar, StatusBadge } from './components';
import { ExecutionActions } from './executions-page';
import { clockTime, dateTime, duration, isActive } from './format';
import { describeError, useApp, useLive, useThrottled } from './live';
import { TimelineBar } from './timeline-bar';

/** One execution: its state, its actions, and its live timeline and logs. */
export function ExecutionPage({ id }: { id: string }) {
  const { client, live } = useApp();
  const [execution, setExecution] = useState<ExecutionView | null>(null);
  const [timeline, setTimeline] = useState<ConveyorEvent[]>([]);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [error, setError] = useState<string | null>(null);
  // A watch ends with the execution; a retry starts the next one where the timeline stopped.
  const [watching, setWatching] = useState(0);
  const lastSeq = useRef(0);
  const refresh = useThrottled(() => void client.get(id).then(setExecution, (err) => setError(describeError(err))), 300);

  const loadLogs = () =>
    void client.logs(id).then(({ items }) => setLogs((shown) => [...items, ...shown.filter((l) => !items.some((i) => i.ts === l.ts && i.line === l.line))]), () => undefined);
  /** Events from the watch and from REST, each once, in order of seq. */
  const addEvents = (events: ConveyorEvent[]) =>
    setTimeline((all) => [...all, ...events.filter((event) => event.seq === undefined || !all.some((e) => e.seq === event.seq))].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)));

  useEffect(() => {
    setTimeline([]);
    setLogs([]);
    lastSeq.current = 0;
    loadLogs();
    // From REST first: the page shows the execution even when the live connection cannot be made.
    void client.get(id).then((view) => setExecution((current) => current ?? view), (err) => setError(describeError(err)));
  }, [client, id]);

  // Without the live connection, the execution, its timeline and its logs are read again from REST.
  useLive(
    () => undefined,
    () => {
      if (live.state === 'live') return;
      refresh();
      loadLogs();
      void client.events(id).then(({ items }) => addEvents(items), () => undefined);
    },
  );

  useEffect(() => {
    const watch = client.watch(
      id,
      {
        onSnapshot: setExecution,
        onEvent: (event) => {
          if (event.type === 'execution.log') return setLogs((all) => [...all, { ts: event.ts, level: event.data.level, line: event.data.line }]);
          lastSeq.current = event.seq ?? lastSeq.current;
          addEvents([event]);
          if (event.type !== 'execution.progress') return refresh();
          const { percent, step = null, message = null } = event.data;
          setExecution((current) => current && { ...current, progress: { percent, step, message } });
        },
      },
      { since: lastSeq.current },
    );
    watch.done.then(setExecution, (err) => setError(describeError(err)));
    return () => watch.stop();
  }, [client, id, watching]);

  if (!execution) {
    return <Card title="Execution">{error ? <ErrorNote error={error} /> : <p class="empty">Loading…</p>}</Card>;
  }
  const ran = execution.startedAt && duration((execution.finishedAt ? Date.parse(execution.finishedAt) : Date.now()) - Date.parse(execution.startedAt));
  return (
    <div class="execution-page" data-execution-id={execution.id}>
      <a href="#/executions" class="back">
        ← Executions
      </a>
      <Card
        title={<ItemTitle name={execution.task} id={execution.id} state={<StatusBadge status={execution.status} />} />}
        actions={
          <ExecutionActions
            execution={execution}
            onChanged={(view) => {
              setExecution(view);
              if (!isActive(execution.status) && isActive(view.status)) setWatching((n) => n + 1);
            }}
          />
        }
      >
        <ProgressBar progress={execution.progress} status={execution.status} />
        {execution.progress?.message && <p class="progress-message">{execution.progress.message}</p>}
        {execution.pendingAction && <p class="notice">Waiting for the worker to {execution.pendingAction}…</p>}
        {execution.waitingFor === 'tenant_concurrency' && <p class="notice">Held back: the tenant already runs as many executions as its limit allows.</p>}
        <dl class="facts">
          <Fact name="Queue" value={execution.queue} />
          <Fact name="Priority" value={String(execution.priority)} />
          <Fact name="Attempts" value={`${execution.attempts.made} of ${execution.attempts.max}`} />
          <Fact name="Created" value={dateTime(execution.createdAt)} />
          <Fact name="Runs at" value={dateTime(execution.runAt)} />
          <Fact name="Started" value={dateTime(execution.startedAt)} />
          <Fact name="Finished" value={dateTime(execution.finishedAt)} />
          <Fact name="Ran for" value={ran || '—'} />
          {execution.scheduleId && <Fact name="Schedule" value={execution.scheduleId} />}
          {execution.tags.length > 0 && <Fact name="Tags" value={execution.tags.join(', ')} />}
        </dl>
        {execution.error && (
          <p class="error-note">
            <strong>{execution.error.name}</strong> {execution.error.message}
          </p>
        )}
        <div class="columns">
          <div>
            <h3>Input</h3>
            <Json value={execution.input} />
          </div>
          <div>
            <h3>Result</h3>
            <Json value={execution.result} />
          </div>
        </div>
      </Card>
      <div class="columns">
        <Card title="Timeline">
          <TimelineBar events={timeline} />
          <ol class="timeline">
            {timeline.map((event) => (
              <li key={event.seq} class={`event event-${event.type.split('.')[1]}`}>
                <time>{clockTime(event.ts)}</time>
                <span class="event-type">{event.type.replace('execution.', '')}</span>
                <span class="event-data">{summary(event)}</span>
              </li>
            ))}
          </ol>
        </Card>
        <Card title="Logs">
          <ol class="logs">
            {logs.map((log, i) => (
              <li key={i} class={`log log-${log.level}`}>
                <time>{clockTime(log.ts)}</time>
                <span>{log.line}</span>
              </li>
            ))}
          </ol>
        </Card>
      </div>
    </div>
  );
}

/** An event's data in a few words. */
function summary(event: ConveyorEvent): string {
  switch (event.type) {
    case 'execution.queued':
      return `${event.data.status}, priority ${event.data.priority}${event.data.waitingFor ? ' · held: tenant at its running limit' : ''}`;
    case 'execution.started':
    case 'execution.recovered':
      return `attempt ${event.data.attempt}`;
    case 'execution.progress':
      return `${Math.round(event.data.percent)}%${event.data.message ? ` · ${event.data.message}` : ''}`;
    case 'execution.retrying':
      return `${event.data.error.message} · retry at ${clockTime(event.data.retryAt)}`;
    case 'execution.failed':
      return event.data.error.message;
    case 'execution.cancelled':
      return event.data.reason ?? '';
    case 'execution.resumed':
      return event.data.fromCheckpoint ? 'from its checkpoint' : '';
    default:
      return '';
  }
}
