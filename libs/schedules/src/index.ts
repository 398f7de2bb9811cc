export * from './schedule-record.js';
export * from './schedule-service.js';
export * from './schedule-store.js';
export * from './schedule-ticks.js';
export * from './schedule-timing.js';
export * from './schedules-core.js';
export * from './schedules.module.js';
export * from './stored-definition.js';
