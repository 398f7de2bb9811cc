import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ExecutionSummary, ScheduleView } from '@conveyor/contracts/core';
import { Card, Empty, ErrorNote, Fact, ItemTitle, Json } from './components';
import { ExecutionTable } from './executions-page';
import { dateTime, relativeTime, timing } from './format';
import { ScheduleForm } from './schedule-form';
import { ScheduleHooks } from './schedule-hooks';
import { ScheduleActions, ScheduleStateBadge } from './schedules-page';
import { useAction, useApp, useCanWrite, useLive, useNow, useThrottled } from './live';

/** `#/schedules/new`, or one schedule: its state and actions, its definition to edit, its recent runs, live. */
export function SchedulePage({ id }: { id: string | null }) {
  return id === null ? (
    <Card title="New schedule">
      <ScheduleForm schedule={null} onSaved={(created) => (location.hash = `#/schedules/${created.id}`)} />
    </Card>
  ) : (
    <ExistingSchedule id={id} />
  );
}

function ExistingSchedule({ id }: { id: string }) {
  const { client } = useApp();
  const canWrite = useCanWrite();
  const now = useNow();
  const [schedule, setSchedule] = useState<ScheduleView | null>(null);
  const [runs, setRuns] = useState<ExecutionSummary[]>([]);
  const loading = useAction();
  const load = useCallback(
    () =>
      void loading.run(async () => {
        const [view, page] = await Promise.all([client.schedules.get(id), client.schedules.runs(id, { limit: 10 })]);
        setSchedule(view);
        setRuns(page.items);
      }),
    [client, id],
  );
  const reload = useThrottled(load, 300);
  useEffect(load, [load]);
  useLive((event) => {
    if (event.scheduleId === id || runs.some((run) => run.id === event.executionId)) reload();
  }, reload);

  if (!schedule) return <Card title="Schedule">{loading.error ? <ErrorNote error={loading.error} /> : <p class="empty">Loading…</p>}</Card>;
  return (
    <div class="schedule-page" data-schedule-id={schedule.id}>
      <a href="#/schedules" class="back">
        ← Schedules
      </a>
      <Card
        title={<ItemTitle name={schedule.name} id={schedule.id} state={<ScheduleStateBadge schedule={schedule} />} />}
        actions={canWrite && <ScheduleActions schedule={schedule} onChanged={setSchedule} onDeleted={() => (location.hash = '#/schedules')} />}
      >
        <dl class="facts">
          <Fact name="Task" value={schedule.task} />
          <Fact name="When" value={timing(schedule)} />
          <Fact name="Next run" value={`${relativeTime(schedule.nextRunAt, now)} · ${dateTime(schedule.nextRunAt)}`} />
          <Fact name="Last run" value={relativeTime(schedule.lastRunAt, now)} />
          <Fact name="Fired" value={String(schedule.runCount)} />
          <Fact name="Failures in a row" value={String(schedule.failureStreak)} />
        </dl>
      </Card>
      <ScheduleHooks scheduleId={schedule.id} />
      <Card title="Recent runs" actions={<a href={`#/executions?schedule=${schedule.id}`}>All runs →</a>}>
        {runs.length === 0 ? <Empty>No runs yet.</Empty> : <ExecutionTable items={runs} onChanged={reload} />}
      </Card>
      <Card title={canWrite ? 'Edit' : 'Definition'}>
        {canWrite ? <ScheduleForm key={schedule.updatedAt} schedule={schedule} onSaved={setSchedule} /> : <Json value={schedule} />}
      </Card>
    </div>
  );
}
