export * from './tenant-limits-store.js';
export * from './tenants.module.js';
