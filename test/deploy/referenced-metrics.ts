import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const alertsFile = join(root, 'deploy/prometheus/alerts.yml');
export const alertsTestFile = join(root, 'deploy/prometheus/alerts.test.yml');
export const dashboardFile = join(root, 'deploy/grafana/conveyor.json');

export interface AlertRule {
  alert: string;
  expr: string;
}

export function alertRules(): AlertRule[] {
  const { groups } = parse(readFileSync(alertsFile, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return groups.flatMap((group) => group.rules);
}

/** The PromQL of the dashboard's panels. */
export function panelQueries(): string[] {
  return readDashboard().panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
}

/** Every query of the dashboard: its panels' and its variables' (Grafana's `label_values`). */
export function dashboardQueries(): string[] {
  return [...panelQueries(), ...readDashboard().templating.list.map((variable) => variable.definition)];
}

function readDashboard() {
  return JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { definition: string }[] };
  };
}

/** The metric names in PromQL (Conveyor's, and the process metrics every service exports). */
export function metricNamesIn(query: string): string[] {
  return query.match(/\b(conveyor|process|nodejs)_[a-z0-9_]+\b/g) ?? [];
}

/** Every metric name the alert rules and the dashboard read. */
export function referencedMetrics(): Set<string> {
  return new Set([...alertRules().map((rule) => rule.expr), ...dashboardQueries()].flatMap(metricNamesIn));
}
