import { useEffect, useState } from 'preact/hooks';
import { ExecutionPage } from './execution-page';
import { ExecutionsPage } from './executions-page';
import { useApp, useConnected } from './live';
import { QueuesBar } from './queues-bar';
import { SchedulesPage } from './schedules-page';
import { logOut } from './session';

type Route = { page: 'executions'; scheduleId: string | null } | { page: 'execution'; id: string } | { page: 'queue'; name: string } | { page: 'schedules' };

/** `#/executions[?schedule=id]`, `#/executions/<id>`, `#/queues/<name>`, `#/schedules`. */
function routeOf(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const [, page, id] = path.split('/');
  if (page === 'schedules') return { page: 'schedules' };
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

export function Dashboard() {
  const route = useRoute();
  const { bullBoardPath, session } = useApp();
  const connected = useConnected();
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/executions">
          <span class="logo" aria-hidden="true" />
          Conveyor
        </a>
        <nav>
          <a href="#/executions" aria-current={route.page !== 'schedules' ? 'page' : undefined}>
            Executions
          </a>
          <a href="#/schedules" aria-current={route.page === 'schedules' ? 'page' : undefined}>
            Schedules
          </a>
          {session.role === 'admin' && (
            <a href={bullBoardPath} target="_blank" rel="noreferrer">
              Bull Board ↗
            </a>
          )}
        </nav>
        <span class={`live ${connected ? 'up' : 'down'}`} data-live={connected}>
          {connected ? 'Live' : 'Reconnecting…'}
        </span>
        <span class="who" data-tenant={session.tenant}>
          {session.tenant} · {session.role}
          <button type="button" class="link" onClick={() => void logOut()}>
            Log out
          </button>
        </span>
      </header>
      <main>
        <QueuesBar />
        {route.page === 'executions' && <ExecutionsPage key={route.scheduleId ?? ''} scheduleId={route.scheduleId} />}
        {route.page === 'execution' && <ExecutionPage key={route.id} id={route.id} />}
        {route.page === 'queue' && <LazyQueuePage key={route.name} name={route.name} />}
        {route.page === 'schedules' && <SchedulesPage />}
      </main>
    </>
  );
}
