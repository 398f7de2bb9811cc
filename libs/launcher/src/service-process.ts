import { fileURLToPath } from 'node:url';
import { spawnManaged, type ManagedProcess } from './child-process.js';

export type ServiceName = 'gateway' | 'worker' | 'monitor';

/** A running Conveyor service; `url` is where gateway and monitor listen. */
export interface ServiceProcess {
  name: ServiceName;
  url: string | null;
  process: ManagedProcess;
}

/** The compiled entry point of a service (beside this file in `dist/`). */
export function serviceEntry(name: ServiceName): string {
  return fileURLToPath(new URL(`../../../services/${name}/src/main.js`, import.meta.url));
}

/**
 * Starts a built service, configured only by `env`, and resolves once it logs `ready`
 * (with the URL it listens on: port 0 in the environment picks a free one).
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  options: { label?: string; onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const process = spawnManaged(options.label ?? name, globalThis.process.execPath, [serviceEntry(name)], {
    env: { ...globalThis.process.env, ...env },
  }, options.onLine);
  const ready = await process.waitForLine((line) => line.includes('"msg":"ready"'), options.timeoutMs ?? 30_000);
  const url = (JSON.parse(ready) as { url?: string }).url ?? null;
  return { name, url, process };
}
