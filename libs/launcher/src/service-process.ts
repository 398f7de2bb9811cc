import { fileURLToPath } from 'node:url';
import { spawnManaged, type ManagedProcess } from './child-process.js';

export type ServiceName = 'gateway' | 'worker' | 'monitor';

/** A running Conveyor service; `url` is where gateway and monitor listen. */
export interface ServiceProcess {
  name: ServiceName;
  url: string | null;
  process: ManagedProcess;
}

export interface StartServiceOptions {
  label?: string;
  onLine?: (line: string) => void;
  /** Called with the process as soon as it is spawned, before it is ready (to stop it while it starts). */
  onSpawn?: (process: ManagedProcess) => void;
  /** How long it may take to log `ready`. Default 30 s. */
  timeoutMs?: number;
}

/** The compiled entry point of a service (beside this file in `dist/`). */
export function serviceEntry(name: ServiceName): string {
  return fileURLToPath(new URL(`../../../services/${name}/src/main.js`, import.meta.url));
}

/**
 * Starts a built service, configured only by `env`, and resolves once it logs `ready`
 * (with the URL it listens on: port 0 in the environment picks a free one).
 * A service that does not get there is killed before the promise rejects.
 */
export async function startService(name: ServiceName, env: Record<string, string>, options: StartServiceOptions = {}): Promise<ServiceProcess> {
  const process = spawnManaged(options.label ?? name, globalThis.process.execPath, [serviceEntry(name)], {
    env: { ...globalThis.process.env, ...env },
  }, options.onLine);
  options.onSpawn?.(process);
  try {
    const ready = await process.waitForLine((line) => line.includes('"msg":"ready"'), options.timeoutMs ?? 30_000);
    const url = (JSON.parse(ready) as { url?: string }).url ?? null;
    return { name, url, process };
  } catch (error) {
    // The caller gets no handle on a service that failed to start: left running, it would outlive the caller.
    await process.stop('SIGKILL');
    throw error;
  }
}
