/*
 * The framework-free part of the contracts: types, constants, the event codec and the shape rules.
 * The client SDK, the dashboard and the test kit import it as `@conveyor/contracts/core`, so none of
 * them loads class-validator; `@conveyor/contracts` adds the DTOs and the task catalogue.
 */
export * from './errors/domain-errors.js';
export * from './errors/non-retryable.error.js';
export * from './events/conveyor-event.js';
export * from './events/event-codec.js';
export * from './executions/backoff-policy.js';
export * from './executions/execution-status.js';
export * from './executions/execution.view.js';
export * from './executions/priority.js';
export * from './executions/queue.view.js';
export * from './identity/identity.view.js';
export * from './ids.js';
export * from './limits.js';
export * from './tenants/tenant.view.js';
export * from './schedules/schedule.view.js';
export * from './schedules/schedule-hook.view.js';
export * from './validation/json-shape.js';
export * from './validation/validated.js';
export * from './webhooks/webhook-signature.js';
export * from './webhooks/webhook.view.js';
