export * from './child-process.js';
export * from './free-port.js';
export * from './redis-cluster.js';
export * from './redis-server.js';
export * from './service-process.js';
