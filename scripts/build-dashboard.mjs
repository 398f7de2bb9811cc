// Bundles the dashboard (services/gateway/ui) into dist/services/gateway/ui, which the gateway serves at /ui.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const source = 'services/gateway/ui';
const target = 'dist/services/gateway/ui';

await mkdir(target, { recursive: true });
await build({
  entryPoints: { app: `${source}/src/main.tsx` },
  outdir: target,
  bundle: true,
  format: 'esm',
  // The charts' page (with uPlot) is a chunk of its own, loaded when opened.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  tsconfig: `${source}/tsconfig.json`,
  logLevel: 'warning',
});
await copyFile(`${source}/index.html`, `${target}/index.html`);
