// Runs every compiled test with node's test runner: unit tests (*.spec.js beside the code) first,
// then end-to-end tests (test/**/*.e2e-spec.js). Extra arguments narrow the files by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2);
const files = (dir, suffix) =>
  readdirSync(dir, { recursive: true })
    .map((file) => join(dir, file))
    .filter((file) => file.endsWith(suffix) && !file.includes('node_modules'))
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();

const suites = [
  { name: 'unit', files: ['dist/libs', 'dist/services'].flatMap((dir) => files(dir, '.spec.js')), concurrency: 2 },
  { name: 'end-to-end', files: files('dist/test', '.e2e-spec.js'), concurrency: 2 },
];

let failed = false;
for (const suite of suites) {
  if (suite.files.length === 0) continue;
  console.log(`\n# ${suite.name} tests (${suite.files.length} files)`);
  const run = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${suite.concurrency}`, '--test-timeout=180000', '--test-reporter=spec', ...suite.files],
    { stdio: 'inherit' },
  );
  failed ||= run.status !== 0;
}
process.exit(failed ? 1 : 0);
