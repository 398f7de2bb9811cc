/** The oldest Node.js Conveyor runs on (as `engines` in package.json says); it is tested and shipped on 24 LTS. */
export const minimumNodeVersion = '22.12.0';

/** What needs a Node.js newer than Conveyor's minimum: OpenTelemetry's packages, when tracing is on. */
export const tracingNeeds = { what: 'Tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', minimum: '22.15.0' };

/** Why this Node.js cannot run Conveyor (or `needs.what`), or `null` when it can. */
export function unsupportedNode(version: string = process.versions.node, needs = { what: 'Conveyor', minimum: minimumNodeVersion }): string | null {
  const [major, minor] = version.split('.').map(Number);
  const [needMajor, needMinor] = needs.minimum.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return null;
  return `${needs.what} needs Node.js ${needs.minimum} or newer (24 LTS recommended); this is ${version}.`;
}

/** Exits with a one-line message on a Node.js Conveyor (or `needs.what`) does not run on. */
export function requireSupportedNode(name: string, needs?: { what: string; minimum: string }): void {
  const refusal = unsupportedNode(undefined, needs);
  if (!refusal) return;
  process.stderr.write(`${name}: ${refusal}\n`);
  process.exit(1);
}
