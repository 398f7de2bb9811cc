import type { ComponentChildren } from 'preact';
import type { ExecutionProgress, ExecutionStatus } from '@conveyor/contracts/core';
import { statusLabels } from './format';

export function StatusBadge({ status }: { status: ExecutionStatus }) {
  return (
    <span class={`badge status-${status}`} data-status={status}>
      {statusLabels[status]}
    </span>
  );
}

export function ProgressBar({ progress, status }: { progress: ExecutionProgress | null; status: ExecutionStatus }) {
  const percent = Math.round(progress?.percent ?? (status === 'completed' ? 100 : 0));
  return (
    <div class="progress-cell" title={progress?.message ?? undefined}>
      <div class={`progress status-${status}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div class="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span class="progress-label">{percent}%</span>
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function ErrorNote({ error }: { error: string | null }) {
  return error ? (
    <p class="error-note" role="alert">
      {error}
    </p>
  ) : null;
}

export function Card({ title, actions, children }: { title: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-header">
        <h2>{title}</h2>
        {actions && <div class="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Fact({ name, value }: { name: string; value: string }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** The title of one item's page: its name, its id, its state. */
export function ItemTitle({ name, id, state }: { name: string; id: string; state: ComponentChildren }) {
  return (
    <>
      {name} <span class="id">{id}</span> {state}
    </>
  );
}

/** Credentials the API answers once (a hook's URL and secret, an endpoint's secret), with what they are for. */
export function ShownOnce({ facts, onDone, children }: { facts: Record<string, string>; onDone: () => void; children: ComponentChildren }) {
  return (
    <div class="shown-once" role="status">
      <p>
        <strong>Shown only now: copy {Object.keys(facts).length > 1 ? 'them' : 'it'}.</strong> {children}
      </p>
      <dl class="facts">
        {Object.entries(facts).map(([name, value]) => (
          <Fact key={name} name={name} value={value} />
        ))}
      </dl>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
