/** Injection token of the worker's validated `WorkerConfig`. */
export const WORKER_CONFIG = Symbol('WORKER_CONFIG');
