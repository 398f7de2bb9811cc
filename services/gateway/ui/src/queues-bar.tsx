import { useEffect, useState } from 'preact/hooks';
import type { QueueView } from '@conveyor/contracts/core';
import { ErrorNote } from './components';
import { statuses, statusLabels } from './format';
import { useAction, useApp, useLive } from './live';

/** A card per queue: its counts (live, from `queue.counts`), whether it is paused, and pause / resume. */
export function QueuesBar() {
  const { client } = useApp();
  const [queues, setQueues] = useState<QueueView[]>([]);
  const action = useAction();
  const update = (name: string, change: Partial<QueueView>) => setQueues((all) => all.map((q) => (q.name === name ? { ...q, ...change } : q)));

  const load = () => void action.run(async () => setQueues((await client.queues.list()).items));
  useEffect(load, [client]);
  useLive((event) => {
    if (event.type === 'queue.counts') update(event.queue, { counts: event.data.counts });
    if (event.type === 'queue.paused' || event.type === 'queue.resumed') update(event.queue, { paused: event.type === 'queue.paused' });
  }, load);

  return (
    <div class="queues">
      {queues.map((queue) => (
        <section class="queue" key={queue.name} data-queue={queue.name}>
          <header>
            <h3>
              <a href={`#/queues/${encodeURIComponent(queue.name)}`} title="Its last hour in charts">
                {queue.name}
              </a>
            </h3>
            {queue.paused && <span class="badge status-paused">Paused</span>}
            <button
              class="link-button"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  const view = await (queue.paused ? client.queues.resume(queue.name) : client.queues.pause(queue.name));
                  update(view.name, view);
                })
              }
            >
              {queue.paused ? 'Resume' : 'Pause'}
            </button>
          </header>
          <dl>
            {statuses.map((status) => (
              <div key={status} class={`count status-${status} ${queue.counts[status] ? 'nonzero' : ''}`} data-count={status}>
                <dt>{statusLabels[status]}</dt>
                <dd>{queue.counts[status].toLocaleString()}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
      <ErrorNote error={action.error} />
    </div>
  );
}
