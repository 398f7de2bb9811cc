// Runs every compiled test with node's test runner: unit tests (*.spec.js beside the code, and under
// test/ those that start no service, such as test/deploy) first,
// then end-to-end tests (test/**/*.e2e-spec.js), then browser tests (test/**/*.browser-spec.js),
// and ends with one line: "N passed, N failed".
// Extra arguments narrow the files by substring: `node scripts/run-tests.mjs realtime`.
// `--cluster` runs the end-to-end tests on a private Redis Cluster instead (`npm run test:cluster`),
// but for those that need a single Redis or test nothing Redis does, and adds the cluster's own
// (test/**/*.cluster-spec.js: a master failing over).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cluster = process.argv.includes('--cluster');
const filters = process.argv.slice(2).filter((arg) => arg !== '--cluster');
/** End-to-end files left out on a cluster: why each is, in the README ("Tests and benchmarks"). */
const singleRedisOnly = ['redis-outage', 'processes', 'fuzz', 'hostile-input', 'egress'];
const files = (dirs, suffix, exclude = []) =>
  dirs
    .flatMap((dir) => readdirSync(dir, { recursive: true }).map((file) => join(dir, file)))
    .filter((file) => file.endsWith(suffix) && !exclude.some((other) => file.endsWith(other)))
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();

const suites = cluster
  ? [
      {
        name: 'end-to-end on Redis Cluster',
        files: [...files(['dist/test'], '.e2e-spec.js').filter((file) => !singleRedisOnly.some((name) => file.includes(name))), ...files(['dist/test'], '.cluster-spec.js')],
      },
    ]
  : [
      { name: 'unit', files: files(['dist/libs', 'dist/services', 'dist/test'], '.spec.js', ['.e2e-spec.js', '.browser-spec.js', '.cluster-spec.js']) },
      { name: 'end-to-end', files: files(['dist/test'], '.e2e-spec.js') },
      { name: 'browser', files: files(['dist/test'], '.browser-spec.js') },
    ];
if (cluster) process.env.CONVEYOR_TEST_REDIS = 'cluster';

const scratch = mkdtempSync(join(tmpdir(), 'conveyor-tests-'));
const totals = { passed: 0, failed: 0 };
let broken = false;
for (const suite of suites) {
  if (suite.files.length === 0) continue;
  console.log(`\n# ${suite.name} tests (${suite.files.length} files)`);
  const tap = join(scratch, `${suite.name}.tap`);
  const run = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-concurrency=2',
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...suite.files,
    ],
    { stdio: 'inherit' },
  );
  const summary = readFileSync(tap, 'utf8');
  const count = (label) => Number(summary.match(new RegExp(`^# ${label} (\\d+)$`, 'm'))?.[1] ?? 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  broken ||= run.status !== 0;
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(broken || totals.failed > 0 || totals.passed === 0 ? 1 : 0);
