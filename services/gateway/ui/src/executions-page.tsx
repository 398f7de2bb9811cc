import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ExecutionList } from '@conveyor/client';
import type { ExecutionStatus, ExecutionSummary, ExecutionView } from '@conveyor/contracts/core';
import { Card, Empty, ErrorNote, ProgressBar, StatusBadge } from './components';
import { duration, isActive, relativeTime, shortId, statusLabels, statuses } from './format';
import { useAction, useApp, useCanWrite, useLive, useNow, useThrottled } from './live';
import { SubmitForm } from './submit-form';

interface Filters {
  status: ExecutionStatus[];
  task: string;
  queue: string;
  tag: string;
  scheduleId: string | null;
}

const noFilters: Filters = { status: [], task: '', queue: '', tag: '', scheduleId: null };

/** The executions, newest first: filters, live status and progress, and the actions each allows. */
export function ExecutionsPage({ scheduleId }: { scheduleId: string | null }) {
  const { client } = useApp();
  const canWrite = useCanWrite();
  const [filters, setFilters] = useState<Filters>({ ...noFilters, scheduleId });
  const [list, setList] = useState<ExecutionList | null>(null);
  const [submitted, setSubmitted] = useState<ExecutionView | null>(null);
  const loading = useAction();

  const load = useCallback(
    () =>
      void loading.run(async () =>
        setList(
          await client.list({
            limit: 50,
            ...(filters.status.length ? { status: filters.status } : {}),
            ...(filters.task ? { task: [filters.task] } : {}),
            ...(filters.queue ? { queue: [filters.queue] } : {}),
            ...(filters.tag ? { tag: [filters.tag] } : {}),
            ...(filters.scheduleId ? { scheduleId: [filters.scheduleId] } : {}),
          }),
        ),
      ),
    [client, filters],
  );
  const reload = useThrottled(load, 500);
  useEffect(load, [load]);

  useLive((event) => {
    if (!event.executionId) return;
    if (event.type !== 'execution.progress') return reload();
    // Progress is frequent: patch the row in place rather than reading the list again.
    const { percent, step = null, message = null } = event.data;
    setList((current) => current && { ...current, items: current.items.map((e) => (e.id === event.executionId ? { ...e, progress: { percent, step, message } } : e)) });
  }, reload);

  const toggleStatus = (status: ExecutionStatus) =>
    setFilters((f) => ({ ...f, status: f.status.includes(status) ? f.status.filter((s) => s !== status) : [...f.status, status] }));

  return (
    <>
      {canWrite && (
        <Card title="New execution">
          <SubmitForm
            onSubmitted={(execution) => {
              setSubmitted(execution);
              reload();
            }}
          />
          {submitted && (
            <p class="notice" data-submitted={submitted.id}>
              Submitted <a href={`#/executions/${submitted.id}`}>{submitted.task} {shortId(submitted.id)}</a>
            </p>
          )}
        </Card>
      )}
      <Card
        title={filters.scheduleId ? `Runs of schedule ${filters.scheduleId}` : 'Executions'}
        actions={
          <button class="link-button" onClick={() => (filters.scheduleId ? (location.hash = '#/executions') : setFilters(noFilters))}>
            Clear filters
          </button>
        }
      >
        <div class="filters">
          <div class="chips" role="group" aria-label="Status">
            {statuses.map((status) => (
              <button
                key={status}
                class={`chip status-${status}`}
                aria-pressed={filters.status.includes(status)}
                onClick={() => toggleStatus(status)}
              >
                {statusLabels[status]} <span class="chip-count">{list?.totals[status] ?? 0}</span>
              </button>
            ))}
          </div>
          <FilterInput label="Task" value={filters.task} onChange={(task) => setFilters((f) => ({ ...f, task }))} placeholder="demo.steps" />
          <FilterInput label="Queue" value={filters.queue} onChange={(queue) => setFilters((f) => ({ ...f, queue }))} placeholder="demo" />
          <FilterInput label="Tag" value={filters.tag} onChange={(tag) => setFilters((f) => ({ ...f, tag }))} placeholder="nightly" />
        </div>
        <ErrorNote error={loading.error} />
        {list && list.items.length === 0 ? <Empty>No executions match.</Empty> : <ExecutionTable items={list?.items ?? []} onChanged={reload} />}
      </Card>
    </>
  );
}

function FilterInput({ label, value, onChange, placeholder }: { label: string; value: string; onChange: (value: string) => void; placeholder: string }) {
  return (
    <label class="filter">
      {label}
      <input type="search" name={label.toLowerCase()} value={value} placeholder={placeholder} onChange={(e) => onChange(e.currentTarget.value.trim())} />
    </label>
  );
}

export function ExecutionTable({ items, onChanged }: { items: ExecutionSummary[]; onChanged: () => void }) {
  const now = useNow();
  return (
    <table class="table executions">
      <thead>
        <tr>
          <th>Execution</th>
          <th>Queue</th>
          <th>Status</th>
          <th class="wide">Progress</th>
          <th>Attempts</th>
          <th>Created</th>
          <th>Duration</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {items.map((execution) => (
          <tr key={execution.id} data-execution-id={execution.id} onClick={() => (location.hash = `#/executions/${execution.id}`)}>
            <td>
              <a href={`#/executions/${execution.id}`} class="task-name">
                {execution.task}
              </a>
              <span class="id">{shortId(execution.id)}</span>
              {execution.tags.map((tag) => (
                <span key={tag} class="tag">
                  {tag}
                </span>
              ))}
            </td>
            <td>{execution.queue}</td>
            <td>
              <StatusBadge status={execution.status} />
            </td>
            <td>
              <ProgressBar progress={execution.progress} status={execution.status} />
            </td>
            <td>
              {execution.attempts.made}/{execution.attempts.max}
            </td>
            <td title={execution.createdAt}>{relativeTime(execution.createdAt, now)}</td>
            <td>{execution.startedAt ? duration((execution.finishedAt ? Date.parse(execution.finishedAt) : now) - Date.parse(execution.startedAt)) : '—'}</td>
            <td onClick={(e) => e.stopPropagation()}>
              <ExecutionActions execution={execution} onChanged={onChanged} compact />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The buttons an execution's status allows: cancel, pause, resume, retry. */
export function ExecutionActions({ execution, onChanged, compact = false }: { execution: ExecutionSummary; onChanged: (view: ExecutionView) => void; compact?: boolean }) {
  const { client } = useApp();
  const action = useAction();
  const canWrite = useCanWrite();
  const { status, id } = execution;
  const act = (run: () => Promise<ExecutionView>) => action.run(async () => onChanged(await run()));
  const buttons = [
    isActive(status) && { label: 'Cancel', run: () => client.cancel(id, 'cancelled from the dashboard'), danger: true },
    !compact && isActive(status) && status !== 'paused' && { label: 'Pause', run: () => client.pause(id) },
    status === 'paused' && { label: 'Resume', run: () => client.resume(id) },
    (status === 'failed' || status === 'cancelled') && { label: 'Retry', run: () => client.retry(id) },
  ].filter((b) => b !== false);
  if (!canWrite) return null;
  return (
    <div class="actions">
      {buttons.map((b) => (
        <button key={b.label} class={b.danger ? 'danger' : ''} disabled={action.busy} onClick={() => act(b.run)}>
          {b.label}
        </button>
      ))}
      <ErrorNote error={action.error} />
    </div>
  );
}
