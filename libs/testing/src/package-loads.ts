import type { ServiceProcess } from '@conveyor/launcher';

/** Environment that makes a service report the tracing packages it loads (read them with `loadedPackages`). */
export function watchPackageLoads(): Record<string, string> {
  const hook = new URL('./package-loads-hook.js', import.meta.url).href;
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${hook}`].filter(Boolean).join(' ') };
}

/** The tracing packages (and `open-telemetry`, Conveyor's set-up) a watched service has loaded so far. */
export function loadedPackages(service: ServiceProcess): string[] {
  return service.process.lines.flatMap((line) => {
    if (!line.includes('"package loaded"')) return [];
    return [(JSON.parse(line) as { package: string }).package];
  });
}
