import { useEffect, useState } from 'preact/hooks';
import { ExecutionPage } from './execution-page';
import { ExecutionsPage } from './executions-page';
import { useApp, useLiveState, type LiveState } from './live';
import { QueuesBar } from './queues-bar';
import { SchedulePage } from './schedule-page';
import { SchedulesPage } from './schedules-page';
import { logOut } from './session';
import { WebhooksPage } from './webhooks-page';

type Route =
  | { page: 'executions'; scheduleId: string | null }
  | { page: 'execution'; id: string }
  | { page: 'queue'; name: string }
  | { page: 'schedules' }
  | { page: 'schedule'; id: string | null }
  | { page: 'webhooks'; id: string | null };

/** `#/executions[?schedule=id]`, `#/executions/<id>`, `#/queues/<name>`, `#/schedules`, `#/schedules/<id | new>`, `#/webhooks[/<id>]`. */
function routeOf(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const [, page, id] = path.split('/');
  if (page === 'schedules' && id) return { page: 'schedule', id: id === 'new' ? null : decodeURIComponent(id) };
  if (page === 'schedules') return { page: 'schedules' };
  if (page === 'webhooks') return { page: 'webhooks', id: id ? decodeURIComponent(id) : null };
  if (page === 'executions' && id) return { page: 'execution', id: decodeURIComponent(id) };
  if (page === 'queues' && id) return { page: 'queue', name: decodeURIComponent(id) };
  return { page: 'executions', scheduleId: new URLSearchParams(query).get('schedule') };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const follow = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  return route;
}

/** The queue page comes with its chart library: loaded the first time one is opened, to keep the page's script small. */
function LazyQueuePage({ name }: { name: string }) {
  const [page, setPage] = useState<typeof import('./queue-page') | null>(null);
  useEffect(() => void import('./queue-page').then(setPage), []);
  return page ? <page.QueuePage name={name} /> : <p class="empty">Loading…</p>;
}

const liveLabels: Record<LiveState, string> = { connecting: 'Connecting…', live: 'Live', down: 'Not live' };

export function Dashboard() {
  const route = useRoute();
  const { bullBoardPath, session } = useApp();
  const live = useLiveState();
  const onSchedules = route.page === 'schedules' || route.page === 'schedule';
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/executions">
          <span class="logo" aria-hidden="true" />
          Conveyor
        </a>
        <nav>
          <a href="#/executions" aria-current={!onSchedules && route.page !== 'webhooks' ? 'page' : undefined}>
            Executions
          </a>
          <a href="#/schedules" aria-current={onSchedules ? 'page' : undefined}>
            Schedules
          </a>
          <a href="#/webhooks" aria-current={route.page === 'webhooks' ? 'page' : undefined}>
            Webhooks
          </a>
          {session.role === 'admin' && (
            <a href={bullBoardPath} target="_blank" rel="noreferrer">
              Bull Board ↗
            </a>
          )}
        </nav>
        <span class={`live ${live === 'live' ? 'up' : 'down'}`} data-live={live}>
          {liveLabels[live]}
        </span>
        <span class="who" data-tenant={session.tenant}>
          {session.tenant} · {session.role}
          <button type="button" class="link" onClick={() => void logOut()}>
            Log out
          </button>
        </span>
      </header>
      <main>
        {live === 'down' && (
          <p class="not-live" role="status">
            Not live: the connection to the monitor cannot be made. This page shows what the API answered and reads it again every few seconds; the live
            connection is retried in the background.
          </p>
        )}
        <QueuesBar />
        {route.page === 'executions' && <ExecutionsPage key={route.scheduleId ?? ''} scheduleId={route.scheduleId} />}
        {route.page === 'execution' && <ExecutionPage key={route.id} id={route.id} />}
        {route.page === 'queue' && <LazyQueuePage key={route.name} name={route.name} />}
        {route.page === 'schedules' && <SchedulesPage />}
        {route.page === 'schedule' && <SchedulePage key={route.id ?? 'new'} id={route.id} />}
        {route.page === 'webhooks' && <WebhooksPage id={route.id} />}
      </main>
    </>
  );
}
