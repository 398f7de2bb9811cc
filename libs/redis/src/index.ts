export * from './connection.js';
export * from './keys.js';
export * from './scripts.js';
export * from './bullmq-scripts.js';
export * from './event-log.js';
export * from './fresh-cache.js';
export * from './sharded-pubsub.js';
