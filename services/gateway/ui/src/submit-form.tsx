import { useEffect, useState } from 'preact/hooks';
import type { TaskView } from '@conveyor/contracts';
import { priorityLevels, type ExecutionView, type PriorityName } from '@conveyor/contracts/core';
import { ErrorNote } from './components';
import { useAction, useApp } from './live';

/** Example inputs, so that a first click does something visible. */
const examples: Record<string, object> = {
  'demo.steps': { steps: 10, stepMs: 500 },
  'demo.noop': {},
  'http.request': { url: 'https://example.com/' },
};

const priorities = Object.keys(priorityLevels) as PriorityName[];

/** Submits an execution of any task of the catalogue, with its input as JSON. */
export function SubmitForm({ onSubmitted }: { onSubmitted: (execution: ExecutionView) => void }) {
  const { client } = useApp();
  const [tasks, setTasks] = useState<TaskView[]>([]);
  const [task, setTask] = useState('demo.steps');
  const [input, setInput] = useState(JSON.stringify(examples['demo.steps']));
  const [priority, setPriority] = useState<PriorityName>('normal');
  const action = useAction();

  useEffect(
    () =>
      void client.tasks().then(({ items }) => {
        setTasks(items);
        // The demo tasks may be turned off: start from a task the gateway offers.
        if (items[0] && !items.some((t) => t.name === task)) chooseTask(items[0].name);
      }, () => undefined),
    [client],
  );

  const chooseTask = (name: string) => {
    setTask(name);
    setInput(JSON.stringify(examples[name] ?? {}));
  };

  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      let parsed: object;
      try {
        parsed = JSON.parse(input);
      } catch {
        throw new Error('The input is not valid JSON.');
      }
      onSubmitted(await client.submit(task as never, parsed as never, { priority }));
    });
  };

  return (
    <form class="submit-form" onSubmit={submit} aria-label="Submit an execution">
      <label>
        Task
        <select name="task" value={task} onChange={(e) => chooseTask(e.currentTarget.value)}>
          {tasks.map((t) => (
            <option key={t.name} value={t.name} title={t.description}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <label class="grow">
        Input (JSON)
        <input name="input" class="mono" value={input} onInput={(e) => setInput(e.currentTarget.value)} spellcheck={false} />
      </label>
      <label>
        Priority
        <select name="priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value as typeof priority)}>
          {priorities.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      <button type="submit" class="primary" disabled={action.busy}>
        Submit
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}
