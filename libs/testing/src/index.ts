export * from './api-client.js';
export * from './event-log.js';
export * from './execution-watcher.js';
export * from './gateway-routes.js';
export * from './hostile-json.js';
export * from './poll.js';
export * from './stack.js';
