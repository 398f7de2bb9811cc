export * from './execution-queues.js';
export * from './execution-reader.js';
export * from './execution-record.js';
export * from './execution-store.js';
export * from './execution-submitter.js';
export * from './execution-view.js';
export * from './executions-core.module.js';
export * from './execution-actions.js';
