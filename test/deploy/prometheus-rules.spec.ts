import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { alertRules, alertsFile, alertsTestFile, dashboardQueries, metricNamesIn, panelQueries } from './referenced-metrics.js';

// The alert rules are checked and unit-tested by promtool (Debian's `prometheus` package has it); that
// every name they and the dashboard read is exported is checked against running services in
// test/e2e/metrics.e2e-spec.ts.

function promtool(...args: string[]): string {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  assert.ifError(run.error);
  assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

interface RulesTest {
  tests: { name: string; alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}

describe('Prometheus alerts and the Grafana dashboard', () => {
  it('has alert rules promtool accepts', () => {
    assert.match(promtool('check', 'rules', alertsFile), /SUCCESS: \d+ rules found/);
  });

  it("passes the rules' unit tests", () => {
    assert.match(promtool('test', 'rules', alertsTestFile), /SUCCESS/);
  });

  it('tests every alert both firing and staying quiet', () => {
    const { tests } = parse(readFileSync(alertsTestFile, 'utf8')) as RulesTest;
    const checks = tests.flatMap((test) => test.alert_rule_test);
    for (const { alert } of alertRules()) {
      const mine = checks.filter((check) => check.alertname === alert);
      assert.ok(mine.some((check) => check.exp_alerts.length > 0), `${alert}: no test where it fires`);
      assert.ok(mine.some((check) => check.exp_alerts.length === 0), `${alert}: no test where it stays quiet`);
    }
  });

  it('has a dashboard whose every query reads a metric', () => {
    const queries = dashboardQueries();
    assert.ok(queries.length > 10);
    for (const query of queries) assert.ok(metricNamesIn(query).length > 0, `reads no metric: ${query}`);
  });

  it("has a dashboard whose panels' queries are valid PromQL (with Grafana's variables filled in)", () => {
    const rules = panelQueries().map((query, i) => ({ record: `dashboard:panel_${i}`, expr: query.replaceAll('$__rate_interval', '5m').replaceAll('$queue', '.*') }));
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      assert.match(promtool('check', 'rules', file), new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
