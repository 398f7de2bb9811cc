/** Injection token of the gateway's validated `GatewayConfig`. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Injection token of the tasks this gateway lists and accepts (`readonly AnyTask[]`). */
export const OFFERED_TASKS = Symbol('OFFERED_TASKS');
