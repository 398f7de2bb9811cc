import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ScheduleState, ScheduleView } from '@conveyor/contracts/core';
import { Card, Empty, ErrorNote } from './components';
import { dateTime, relativeTime, timing } from './format';
import { useAction, useApp, useCanWrite, useLive, useNow, useThrottled } from './live';

const stateLabels: Record<ScheduleState, string> = {
  active: 'Active',
  disabled: 'Disabled',
  'paused-after-failures': 'Paused after failures',
  finished: 'Finished',
};

/** The schedules: when each fires next, live; enable, disable and run now; a new one. */
export function SchedulesPage() {
  const { client } = useApp();
  const canWrite = useCanWrite();
  const [schedules, setSchedules] = useState<ScheduleView[] | null>(null);
  const loading = useAction();
  const now = useNow();
  const load = useCallback(() => void loading.run(async () => setSchedules((await client.schedules.list()).items)), [client]);
  const reload = useThrottled(load, 500);
  useEffect(load, [load]);
  useLive((event) => {
    if (event.type.startsWith('schedule.')) reload();
  }, reload);

  return (
    <Card title="Schedules" actions={canWrite && <a href="#/schedules/new">New schedule</a>}>
      <ErrorNote error={loading.error} />
      {schedules?.length === 0 ? (
        <Empty>No schedules yet.</Empty>
      ) : (
        <table class="table schedules">
          <thead>
            <tr>
              <th>Name</th>
              <th>Task</th>
              <th>When</th>
              <th>State</th>
              <th>Next run</th>
              <th>Last run</th>
              <th title="Scheduled runs so far (runs started by hand not counted)">Fired</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(schedules ?? []).map((schedule) => (
              <tr key={schedule.id} data-schedule-id={schedule.id}>
                <td>
                  <a class="task-name" href={`#/schedules/${schedule.id}`}>
                    {schedule.name}
                  </a>
                </td>
                <td>{schedule.task}</td>
                <td class="mono">{timing(schedule)}</td>
                <td>
                  <ScheduleStateBadge schedule={schedule} />
                </td>
                <td title={dateTime(schedule.nextRunAt)}>{relativeTime(schedule.nextRunAt, now)}</td>
                <td class="last-run" title={dateTime(schedule.lastRunAt)}>
                  {relativeTime(schedule.lastRunAt, now)}
                </td>
                <td>
                  <a href={`#/executions?schedule=${schedule.id}`} title="Its runs">
                    {schedule.runCount}
                  </a>
                </td>
                <td>{canWrite && <ScheduleActions schedule={schedule} onChanged={(view) => setSchedules((all) => all && all.map((s) => (s.id === view.id ? view : s)))} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export function ScheduleStateBadge({ schedule }: { schedule: ScheduleView }) {
  return (
    <span class={`badge schedule-${schedule.state}`} data-state={schedule.state}>
      {stateLabels[schedule.state]}
    </span>
  );
}

/** Run now, enable or disable; and delete, asked twice, where `onDeleted` says what follows. */
export function ScheduleActions({ schedule, onChanged, onDeleted }: { schedule: ScheduleView; onChanged: (view: ScheduleView) => void; onDeleted?: () => void }) {
  const { client } = useApp();
  const action = useAction();
  const [deleting, setDeleting] = useState(false);
  const act = (run: () => Promise<ScheduleView>) => action.run(async () => onChanged(await run()));
  return (
    <div class="actions">
      <button disabled={action.busy || schedule.state === 'finished'} onClick={() => act(() => client.schedules.runNow(schedule.id))}>
        Run now
      </button>
      <button disabled={action.busy} onClick={() => act(() => (schedule.enabled ? client.schedules.disable(schedule.id) : client.schedules.enable(schedule.id)))}>
        {schedule.enabled ? 'Disable' : 'Enable'}
      </button>
      {onDeleted && (
        <button
          class="danger"
          disabled={action.busy}
          onClick={() => (deleting ? action.run(async () => (await client.schedules.delete(schedule.id), onDeleted())) : setDeleting(true))}
        >
          {deleting ? 'Delete for good' : 'Delete'}
        </button>
      )}
      <ErrorNote error={action.error} />
    </div>
  );
}
