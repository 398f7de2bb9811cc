export * from './api-error.js';
export * from './conveyor-client.js';
export * from './execution-watch.js';
export * from './realtime-connection.js';
export * from './room-follow.js';
export { deliveryHeader, signatureHeader, verifyWebhook } from '@conveyor/contracts/core';
