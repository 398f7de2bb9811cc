/** Injection token of the monitor's validated `MonitorConfig`. */
export const MONITOR_CONFIG = Symbol('MONITOR_CONFIG');
