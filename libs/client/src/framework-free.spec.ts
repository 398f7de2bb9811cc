import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The packages a module loads, following its relative imports (compiled: type-only imports are gone). */
function packagesLoadedBy(entry: URL): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const url = pending.pop()!;
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    const source = readFileSync(fileURLToPath(url), 'utf8');
    for (const [, specifier] of source.matchAll(/(?:from|import)\s*['"]([^'"]+)['"]/g)) {
      if (specifier.startsWith('.')) pending.push(new URL(specifier, url));
      else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
    }
  }
  return packages;
}

const frameworks = ['class-validator', 'class-transformer', 'reflect-metadata', '@nestjs/common', '@nestjs/core'];

describe('framework-free contracts', () => {
  for (const [what, entry] of [
    ['the contracts core', new URL('../../contracts/src/core.js', import.meta.url)],
    ['the client SDK', new URL('./index.js', import.meta.url)],
  ] as const) {
    it(`${what} loads no validation or Nest framework`, () => {
      const loaded = packagesLoadedBy(entry);
      assert.deepEqual(frameworks.filter((name) => loaded.has(name)), []);
    });
  }
});
