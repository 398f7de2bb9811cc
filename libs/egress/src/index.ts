export * from './egress-guard.js';
export * from './egress-policy.js';
export * from './egress-request.js';
export * from './ip-ranges.js';
