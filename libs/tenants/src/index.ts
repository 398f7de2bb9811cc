export * from './limit-use.js';
export * from './tenant-limits-store.js';
export * from './tenant-quota.js';
export * from './tenants-core.js';
export * from './tenant-slots.js';
export * from './tenants.module.js';
