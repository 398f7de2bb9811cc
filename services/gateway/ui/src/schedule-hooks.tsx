import { useCallback, useEffect, useState } from 'preact/hooks';
import type { CreatedScheduleHookView, ScheduleHookView } from '@conveyor/contracts/core';
import { Card, Empty, ErrorNote, ShownOnce } from './components';
import { dateTime } from './format';
import { useAction, useApp, useCanWrite, useLive } from './live';

/** A schedule's inbound hooks: listed (never their secrets), made (URL and secret shown once) and revoked. */
export function ScheduleHooks({ scheduleId }: { scheduleId: string }) {
  const { client } = useApp();
  const canWrite = useCanWrite();
  const [hooks, setHooks] = useState<ScheduleHookView[] | null>(null);
  const [created, setCreated] = useState<CreatedScheduleHookView | null>(null);
  const [description, setDescription] = useState('');
  const loading = useAction();
  const action = useAction();
  const load = useCallback(() => void loading.run(async () => setHooks((await client.schedules.hooks.list(scheduleId)).items)), [client, scheduleId]);
  useEffect(load, [load]);
  // Hooks have no events: read again on each (re)join and, while not live, every few seconds.
  useLive(() => undefined, load);

  const create = () =>
    action.run(async () => {
      const hook = await client.schedules.hooks.create(scheduleId, description.trim() ? { description: description.trim() } : {});
      setCreated(hook);
      setDescription('');
      load();
    });

  return (
    <Card title="Inbound hooks">
      <ErrorNote error={loading.error} />
      {created && (
        <ShownOnce facts={{ URL: created.url, Secret: created.secret }} onDone={() => setCreated(null)}>
          The URL is the credential (no API key needed); the secret signs calls in <code>Conveyor-Signature</code>.
        </ShownOnce>
      )}
      {hooks?.length === 0 ? (
        <Empty>No hooks: nothing outside can start this schedule.</Empty>
      ) : (
        <table class="table hooks">
          <thead>
            <tr>
              <th>Hook</th>
              <th>Description</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(hooks ?? []).map((hook) => (
              <tr key={hook.id} data-hook-id={hook.id}>
                <td class="mono">{hook.id}</td>
                <td>{hook.description ?? '—'}</td>
                <td>{dateTime(hook.createdAt)}</td>
                <td>{canWrite && <RevokeHook scheduleId={scheduleId} hook={hook} onRevoked={load} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form
          class="form-actions hook-form"
          aria-label="Make a hook"
          onSubmit={(event) => {
            event.preventDefault();
            void create();
          }}
        >
          <input name="description" placeholder="Description (optional)" value={description} onInput={(event) => setDescription(event.currentTarget.value)} />
          <button type="submit" disabled={action.busy}>
            Make a hook
          </button>
          <ErrorNote error={action.error} />
        </form>
      )}
    </Card>
  );
}

/** Revoke, asked twice like a schedule's delete: calls to its URL are refused from then on. */
function RevokeHook({ scheduleId, hook, onRevoked }: { scheduleId: string; hook: ScheduleHookView; onRevoked: () => void }) {
  const { client } = useApp();
  const action = useAction();
  const [asked, setAsked] = useState(false);
  return (
    <div class="actions">
      <button
        class="danger"
        disabled={action.busy}
        onClick={() => (asked ? action.run(async () => (await client.schedules.hooks.revoke(scheduleId, hook.id), onRevoked())) : setAsked(true))}
      >
        {asked ? 'Revoke for good' : 'Revoke'}
      </button>
      <ErrorNote error={action.error} />
    </div>
  );
}
