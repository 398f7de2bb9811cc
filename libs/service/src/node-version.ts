/** The oldest Node.js Conveyor runs on (as `engines` in package.json says); it is tested and shipped on 24 LTS. */
export const minimumNodeVersion = '22.12.0';

/** Why this Node.js cannot run Conveyor, or `null` when it can. */
export function unsupportedNode(version: string = process.versions.node): string | null {
  const [major, minor] = version.split('.').map(Number);
  const [needMajor, needMinor] = minimumNodeVersion.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return null;
  return `Conveyor needs Node.js ${minimumNodeVersion} or newer (24 LTS recommended); this is ${version}.`;
}

/** Exits with a one-line message on a Node.js Conveyor does not run on. */
export function requireSupportedNode(name: string): void {
  const refusal = unsupportedNode();
  if (!refusal) return;
  process.stderr.write(`${name}: ${refusal}\n`);
  process.exit(1);
}
