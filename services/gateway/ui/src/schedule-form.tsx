import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConveyorApiError } from '@conveyor/client';
import type { TaskView } from '@conveyor/contracts';
import type { OverlapPolicy, SchedulePreviewRequest, ScheduleView } from '@conveyor/contracts/core';
import { ErrorNote } from './components';
import { useApp } from './live';

type TriggerKind = 'cron' | 'every' | 'at' | 'none';

/** The form's fields, as typed: numbers and JSON stay text until sent, so the server judges them. */
interface Fields {
  name: string;
  task: string;
  input: string;
  trigger: TriggerKind;
  cron: string;
  tz: string;
  every: string;
  at: string;
  runImmediately: boolean;
  startAt: string;
  endAt: string;
  limit: string;
  overlap: OverlapPolicy;
  pauseAfterFailures: string;
  priority: string;
  attempts: string;
  backoff: string;
  timeoutMs: string;
  tags: string;
  enabled: boolean;
}

type FieldErrors = Partial<Record<keyof Fields, string>>;

const text = (value: string | number | null) => (value === null ? '' : String(value));

function fieldsOf(schedule: ScheduleView | null): Fields {
  const s = schedule;
  return {
    name: s?.name ?? '',
    task: s?.task ?? '',
    input: JSON.stringify(s?.input ?? {}),
    trigger: s?.cron ? 'cron' : s?.every ? 'every' : s?.at ? 'at' : s ? 'none' : 'cron',
    cron: s?.cron ?? '',
    tz: s?.tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    every: text(s?.every ?? null),
    at: s?.at ?? '',
    runImmediately: s?.runImmediately ?? false,
    startAt: s?.startAt ?? '',
    endAt: s?.endAt ?? '',
    limit: text(s?.limit ?? null),
    overlap: s?.overlap ?? 'skip',
    pauseAfterFailures: text(s?.pauseAfterFailures ?? null),
    priority: text(s?.priority ?? null),
    attempts: text(s?.attempts ?? null),
    backoff: s?.backoff ? JSON.stringify(s.backoff) : '',
    timeoutMs: text(s?.timeoutMs ?? null),
    tags: s?.tags.join(', ') ?? '',
    enabled: s?.enabled ?? true,
  };
}

/** A number when the text is one; otherwise the text itself, for the server to name what is wrong. */
const numberOr = (value: string) => (value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value);

/**
 * The request body: a create leaves empty fields out; an edit is a merge patch, where `null` clears
 * a field and the trigger fields are all sent (the gateway replaces them together).
 */
function bodyOf(fields: Fields, patch: boolean): { body: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const json = (name: 'input' | 'backoff') => {
    try {
      return JSON.parse(fields[name]) as unknown;
    } catch {
      errors[name] = 'is not valid JSON';
      return undefined;
    }
  };
  const kind = fields.trigger;
  const given = (value: unknown, used = true) => (used && value !== '' ? value : null);
  const body: Record<string, unknown> = {
    name: fields.name,
    task: fields.task,
    input: json('input'),
    cron: given(fields.cron, kind === 'cron'),
    tz: given(fields.tz, kind === 'cron'),
    every: given(numberOr(fields.every), kind === 'every'),
    at: given(fields.at, kind === 'at'),
    runImmediately: (kind === 'cron' || kind === 'every') && fields.runImmediately,
    startAt: given(fields.startAt),
    endAt: given(fields.endAt),
    limit: given(numberOr(fields.limit)),
    overlap: fields.overlap,
    pauseAfterFailures: given(numberOr(fields.pauseAfterFailures)),
    priority: given(/^\d+$/.test(fields.priority) ? Number(fields.priority) : fields.priority),
    attempts: given(numberOr(fields.attempts)),
    backoff: fields.backoff.trim() ? json('backoff') : null,
    timeoutMs: given(numberOr(fields.timeoutMs)),
    tags: fields.tags.split(',').map((tag) => tag.trim()).filter(Boolean),
    enabled: fields.enabled,
  };
  return { body: patch ? body : Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null)), errors };
}

/** The form field a `details[].path` names (`input.steps` → input, `backoff.delayMs` → backoff, `tags[2]` → tags). */
const fieldOfPath = (path: string) => path.split(/[.[]/)[0] as keyof Fields;

/** Creates a schedule (`schedule` null) or edits one: every field of the definition, with the server's errors beside each. */
export function ScheduleForm({ schedule, onSaved }: { schedule: ScheduleView | null; onSaved: (schedule: ScheduleView) => void }) {
  const { client } = useApp();
  const [fields, setFields] = useState(() => fieldsOf(schedule));
  const [tasks, setTasks] = useState<TaskView[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(
    () =>
      void client.tasks().then(({ items }) => {
        setTasks(items);
        setFields((f) => (f.task || !items[0] ? f : { ...f, task: items[0].name }));
      }, () => undefined),
    [client],
  );

  const set = <K extends keyof Fields>(name: K, value: Fields[K]) => setFields((f) => ({ ...f, [name]: value }));
  /** The props that tie an input to its field and its error. */
  const bind = (name: keyof Fields) => ({
    name,
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': errors[name] ? `${name}-error` : undefined,
  });
  const textInput = (name: keyof Fields, placeholder = '', mono = false) => (
    <input {...bind(name)} class={mono ? 'mono' : undefined} value={fields[name] as string} placeholder={placeholder} spellcheck={false} onInput={(e) => set(name, e.currentTarget.value)} />
  );

  const save = async (event: Event) => {
    event.preventDefault();
    const { body, errors: local } = bodyOf(fields, schedule !== null);
    setErrors(local);
    setProblem(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      onSaved(schedule ? await client.schedules.update(schedule.id, body) : await client.schedules.create(body));
    } catch (err) {
      const { message, details = [] } = err as Partial<ConveyorApiError>;
      const byField: FieldErrors = {};
      const elsewhere: string[] = [];
      for (const { path, message: why } of details) {
        const field = fieldOfPath(path);
        if (field in fields) byField[field] = [byField[field], path === field ? why : `${path} ${why}`].filter(Boolean).join('; ');
        else elsewhere.push(`${path} ${why}`);
      }
      setErrors(byField);
      setProblem(details.length === 0 || elsewhere.length > 0 ? [message ?? String(err), ...elsewhere].join(' · ') : null);
    } finally {
      setBusy(false);
    }
  };

  const field = (name: keyof Fields, label: string, input: ComponentChildren, wide = false) => (
    <label class={wide ? 'wide' : undefined}>
      {label}
      {input}
      {errors[name] && (
        <span class="field-error" id={`${name}-error`} data-field-error={name}>
          {errors[name]}
        </span>
      )}
    </label>
  );
  const kind = fields.trigger;
  return (
    <form class="schedule-form" onSubmit={save} aria-label={schedule ? 'Edit the schedule' : 'Create a schedule'} noValidate>
      {field('name', 'Name', textInput('name', 'nightly-report'))}
      {field(
        'task',
        'Task',
        <select {...bind('task')} value={fields.task} onChange={(e) => set('task', e.currentTarget.value)}>
          {tasks.map((t) => (
            <option key={t.name} value={t.name} title={t.description}>
              {t.name}
            </option>
          ))}
        </select>,
      )}
      {field('input', 'Input (JSON)', <textarea {...bind('input')} class="mono" rows={3} value={fields.input} spellcheck={false} onInput={(e) => set('input', e.currentTarget.value)} />, true)}
      <fieldset class="wide trigger">
        <legend>When</legend>
        {(['cron', 'every', 'at', 'none'] as const).map((option) => (
          <label key={option} class="choice">
            <input type="radio" name="trigger" value={option} checked={kind === option} onChange={() => set('trigger', option)} />
            {{ cron: 'Cron', every: 'Every', at: 'Once at', none: 'By hand only' }[option]}
          </label>
        ))}
      </fieldset>
      {kind === 'cron' && field('cron', 'Cron (5 fields, or 6 with seconds)', textInput('cron', '0 9 * * 1-5', true))}
      {kind === 'cron' && field('tz', 'Time zone (IANA)', textInput('tz', 'Europe/Berlin'))}
      {kind === 'every' && field('every', 'Every (ms)', textInput('every', '60000'))}
      {kind === 'at' && field('at', 'At (ISO 8601)', textInput('at', '2027-01-01T09:00:00Z'))}
      {(kind === 'cron' || kind === 'every') && <NextTimes trigger={kind === 'cron' ? { cron: fields.cron, tz: fields.tz } : { every: Number(fields.every) }} startAt={fields.startAt} />}
      {(kind === 'cron' || kind === 'every') &&
        field(
          'runImmediately',
          'First run',
          <span class="choice">
            <input type="checkbox" {...bind('runImmediately')} checked={fields.runImmediately} onChange={(e) => set('runImmediately', e.currentTarget.checked)} /> at once
          </span>,
        )}
      {field('startAt', 'Start at (ISO 8601)', textInput('startAt', 'optional'))}
      {field('endAt', 'End at (ISO 8601)', textInput('endAt', 'optional'))}
      {field('limit', 'Limit (runs)', textInput('limit', 'no limit'))}
      {field(
        'overlap',
        'While the last run is going',
        <select {...bind('overlap')} value={fields.overlap} onChange={(e) => set('overlap', e.currentTarget.value as OverlapPolicy)}>
          <option value="skip">skip the tick</option>
          <option value="allow">run anyway</option>
        </select>,
      )}
      {field('pauseAfterFailures', 'Pause after failures', textInput('pauseAfterFailures', 'never'))}
      {field('priority', 'Priority', textInput('priority', "the task's"))}
      {field('attempts', 'Attempts', textInput('attempts', "the task's"))}
      {field('timeoutMs', 'Timeout (ms)', textInput('timeoutMs', "the task's"))}
      {field('backoff', 'Backoff (JSON)', textInput('backoff', '{"type":"exponential","delayMs":1000}', true))}
      {field('tags', 'Tags (comma-separated)', textInput('tags', 'nightly, reports'))}
      {field(
        'enabled',
        'Enabled',
        <span class="choice">
          <input type="checkbox" {...bind('enabled')} checked={fields.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} /> fires on its trigger
        </span>,
      )}
      <div class="wide form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {schedule ? 'Save' : 'Create'}
        </button>
        <ErrorNote error={problem} />
      </div>
    </form>
  );
}

/** Wait this long after the last key before asking for a preview. */
const previewDelayMs = 300;

/** The next five times of the trigger, from the server's own parser, asked again as one types; or why it has none. */
function NextTimes({ trigger, startAt }: { trigger: SchedulePreviewRequest; startAt: string }) {
  const { client } = useApp();
  const [times, setTimes] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const request = { ...trigger, ...(startAt ? { startAt } : {}), count: 5 };
  const key = JSON.stringify(request);

  useEffect(() => {
    if (!trigger.cron && !trigger.every) return setTimes([]);
    let current = true;
    const timer = setTimeout(
      () =>
        void client.schedules.preview(request).then(
          ({ items }) => current && (setTimes(items), setProblem(null)),
          (err: Partial<ConveyorApiError>) => current && (setTimes([]), setProblem((err.details ?? []).map((d) => `${d.path} ${d.message}`).join(' · ') || (err.message ?? String(err)))),
        ),
      previewDelayMs,
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, key]);

  // Shown in the schedule's zone (a cron's), else the browser's.
  const format = safeFormat(trigger.tz);
  return (
    <div class="wide next-times" aria-live="polite">
      <span class="next-times-label">Next times{trigger.tz ? ` (${trigger.tz})` : ''}</span>
      {problem ? (
        <span class="field-error" data-preview-error>
          {problem}
        </span>
      ) : (
        <ol aria-label="Next times">
          {times.map((time) => (
            <li key={time} data-time={time}>
              {format(time)}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function safeFormat(timeZone: string | undefined): (iso: string) => string {
  try {
    const format = new Intl.DateTimeFormat(undefined, { timeZone, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
    return (iso) => format.format(new Date(iso));
  } catch {
    // An unknown zone: the preview's answer says so.
    return (iso) => iso;
  }
}
