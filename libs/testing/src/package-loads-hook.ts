import { registerHooks } from 'node:module';

// Preloaded into a service under test (see `watchPackageLoads`): says once, on stderr, that the
// service loaded a module of OpenTelemetry, of bullmq-otel, or Conveyor's tracing set-up. Not
// `@opentelemetry/api`: prom-client's process metrics require that facade (for exemplars), and
// without an SDK registered behind it, it does nothing.

const watched = /\/node_modules\/(@opentelemetry\/(?!api\/)[^/]+|bullmq-otel)\/|\/libs\/tracing\/src\/(open-telemetry)\.js$/;
const seen = new Set<string>();

registerHooks({
  load(url, context, nextLoad) {
    const match = watched.exec(url);
    const name = match?.[1] ?? match?.[2];
    if (name && !seen.has(name)) {
      seen.add(name);
      process.stderr.write(`${JSON.stringify({ msg: 'package loaded', package: name })}\n`);
    }
    return nextLoad(url, context);
  },
});
