import { useCallback, useEffect, useState } from 'preact/hooks';
import { isId, isWebhookEventType, webhookEventTypes, type WebhookDeliveryView, type WebhookEventType, type WebhookView, type WebhookWithSecret } from '@conveyor/contracts/core';
import { Card, Empty, ErrorNote, ShownOnce } from './components';
import { dateTime } from './format';
import { useAction, useApp, useCanWrite, useLive, useThrottled } from './live';

/** While a shown delivery is still pending, its attempts are read again this often (deliveries have no events of their own). */
const pendingRefreshMs = 2000;

/** `#/webhooks[/<id>]`: the tenant's endpoints, and the chosen one's recent deliveries with each attempt. */
export function WebhooksPage({ id }: { id: string | null }) {
  const { client } = useApp();
  const canWrite = useCanWrite();
  const [endpoints, setEndpoints] = useState<WebhookView[] | null>(null);
  const loading = useAction();
  const load = useCallback(() => void loading.run(async () => setEndpoints((await client.webhooks.list()).items)), [client]);
  const reload = useThrottled(load, 1000);
  useEffect(load, [load]);
  // An endpoint is disabled for its failures without an event of its own: read again after each deliverable one.
  useLive((event) => isWebhookEventType(event.type) && reload(), reload);

  return (
    <>
      <Card title="Webhook endpoints">
        <ErrorNote error={loading.error} />
        {endpoints?.length === 0 ? (
          <Empty>No webhook endpoints yet.</Empty>
        ) : (
          <table class="table webhooks">
            <thead>
              <tr>
                <th>URL</th>
                <th>Events</th>
                <th>Filters</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {(endpoints ?? []).map((endpoint) => (
                <tr key={endpoint.id} data-webhook-id={endpoint.id} aria-selected={endpoint.id === id}>
                  <td>
                    <a class="task-name mono" href={`#/webhooks/${endpoint.id}`}>
                      {endpoint.url}
                    </a>
                    {endpoint.description && <div class="muted">{endpoint.description}</div>}
                  </td>
                  <td>{endpoint.events.join(', ')}</td>
                  <td>{filtersOf(endpoint)}</td>
                  <td>
                    <EndpointState endpoint={endpoint} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {canWrite && <NewEndpoint onCreated={load} />}
      </Card>
      {id && <Deliveries key={id} endpointId={id} />}
    </>
  );
}

/** A new endpoint: its URL and the events it gets; its signing secret is shown once. */
function NewEndpoint({ onCreated }: { onCreated: () => void }) {
  const { client } = useApp();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>(['execution.completed', 'execution.failed']);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);
  const action = useAction();
  const toggle = (type: WebhookEventType, on: boolean) => setEvents((chosen) => (on ? [...chosen, type] : chosen.filter((t) => t !== type)));
  const create = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      setCreated(await client.webhooks.create({ url, events }));
      setUrl('');
      onCreated();
    });
  };
  return (
    <form class="webhook-form" aria-label="Add an endpoint" onSubmit={create}>
      {created && (
        <ShownOnce facts={{ Secret: created.secret }} onDone={() => setCreated(null)}>
          It signs each delivery to <code>{created.url}</code> in <code>Conveyor-Signature</code>.
        </ShownOnce>
      )}
      <label>
        URL
        <input name="url" type="url" required placeholder="https://example.com/conveyor" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>Events</legend>
        {webhookEventTypes.map((type) => (
          <label key={type} class="choice">
            <input type="checkbox" name="events" value={type} checked={events.includes(type)} onChange={(e) => toggle(type, e.currentTarget.checked)} />
            {type}
          </label>
        ))}
      </fieldset>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Add the endpoint
        </button>
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}

function filtersOf(endpoint: WebhookView): string {
  const set = Object.entries(endpoint.filters ?? {}).filter(([, value]) => value);
  return set.length ? set.map(([name, value]) => `${name}: ${value}`).join(', ') : 'none';
}

function EndpointState({ endpoint }: { endpoint: WebhookView }) {
  return (
    <>
      <span class={`badge ${endpoint.enabled ? 'schedule-active' : 'schedule-disabled'}`} data-enabled={String(endpoint.enabled)}>
        {endpoint.enabled ? 'Enabled' : 'Disabled'}
      </span>
      {endpoint.disabledReason && <div class="field-error">{endpoint.disabledReason}</div>}
    </>
  );
}

const deliveryBadges: Record<WebhookDeliveryView['status'], string> = { pending: 'status-queued', delivered: 'status-completed', failed: 'status-failed' };

function Deliveries({ endpointId }: { endpointId: string }) {
  const { client } = useApp();
  const [deliveries, setDeliveries] = useState<WebhookDeliveryView[] | null>(null);
  const loading = useAction();
  const load = useCallback(() => void loading.run(async () => setDeliveries((await client.webhooks.deliveries(endpointId, { limit: 20 })).items)), [client, endpointId]);
  const reload = useThrottled(load, 1000);
  useEffect(load, [load]);
  // Each deliverable event may be delivered here: read again soon after, and until none is pending.
  useLive((event) => isWebhookEventType(event.type) && reload(), reload);
  const pending = deliveries?.some((delivery) => delivery.status === 'pending');
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(load, pendingRefreshMs);
    return () => clearTimeout(timer);
  }, [pending, deliveries, load]);

  return (
    <Card title="Recent deliveries">
      <ErrorNote error={loading.error} />
      {deliveries?.length === 0 ? (
        <Empty>Nothing delivered to this endpoint yet.</Empty>
      ) : (
        <table class="table deliveries">
          <thead>
            <tr>
              <th>Event</th>
              <th>About</th>
              <th>Status</th>
              <th>Attempts</th>
            </tr>
          </thead>
          <tbody>
            {(deliveries ?? []).map((delivery) => (
              <tr key={delivery.id} data-delivery-id={delivery.id} data-status={delivery.status}>
                <td>{delivery.eventType}</td>
                <td class="mono">
                  {isId('execution', delivery.subjectId) ? <a href={`#/executions/${delivery.subjectId}`}>{delivery.subjectId}</a> : delivery.subjectId}
                </td>
                <td>
                  <span class={`badge ${deliveryBadges[delivery.status]}`}>{delivery.status}</span>
                </td>
                <td>
                  <ol class="attempts">
                    {delivery.attempts.map((attempt) => (
                      <li key={attempt.at} data-status-code={attempt.statusCode ?? ''}>
                        {dateTime(attempt.at)} · <strong>{attempt.statusCode ?? 'no answer'}</strong> · {attempt.durationMs} ms
                        {(attempt.error || attempt.responseExcerpt) && <div class="muted mono">{attempt.error ?? attempt.responseExcerpt}</div>}
                      </li>
                    ))}
                  </ol>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
