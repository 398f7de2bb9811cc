export * from './delivery-job.js';
export * from './delivery-policy.js';
export * from './webhook-relay.js';
export * from './webhook-sender.js';
export * from './webhook-store.js';
