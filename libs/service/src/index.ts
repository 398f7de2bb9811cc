export * from './http/api-error.js';
export * from './http/api-exception.filter.js';
export * from './http/health.controller.js';
export * from './logger.js';
export * from './node-version.js';
export * from './run-service.js';
export * from './serve-http.js';
export * from './shutdown.js';
