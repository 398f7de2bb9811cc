export * from './api-keys.js';
export * from './authenticator.js';
export * from './principal.js';
export * from './signed-tokens.js';
export * from './identity.module.js';
export * from './caller.js';
export * from './browser-tokens.js';
export * from './origins.js';
