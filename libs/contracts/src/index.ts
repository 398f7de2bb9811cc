// Decorated classes below record their types through reflect-metadata, which must load first.
import 'reflect-metadata';

export * from './errors/non-retryable.error.js';
export * from './events/conveyor-event.js';
export * from './executions/backoff-policy.js';
export * from './executions/execution-status.js';
export * from './executions/execution.view.js';
export * from './executions/priority.js';
export * from './executions/submit-execution.dto.js';
export * from './limits.js';
export * from './tasks/define-task.js';
export * from './tasks/demo-noop.task.js';
export * from './tasks/demo-steps.task.js';
export * from './tasks/http-request.task.js';
export * from './tasks/task-catalog.js';
export * from './validation/field-error.js';
export * from './realtime/subscribe-request.js';
