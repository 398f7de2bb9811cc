import type { ScheduleDefinition, ScheduleState } from '@conveyor/contracts';

/**
 * A schedule as stored: its definition plus what Conveyor keeps of its life. Times are epoch ms.
 * Persisted: add fields, never rename them.
 */
export interface ScheduleRecord {
  id: string;
  tenant: string;
  definition: ScheduleDefinition;
  state: ScheduleState;
  enabled: boolean;
  seq: number;
  runCount: number;
  failureStreak: number;
  lastRunAt: number | null;
  lastExecutionId: string | null;
  /** The first tick's time: later `every` slots follow from it. */
  anchor: number | null;
  createdAt: number;
  updatedAt: number;
}

const numbers = new Set(['seq', 'runCount', 'failureStreak', 'lastRunAt', 'anchor', 'createdAt', 'updatedAt']);

export function encodeSchedule(fields: Partial<ScheduleRecord>): string[] {
  return Object.entries(fields).flatMap(([name, value]) => {
    if (value === undefined) return [];
    if (value === null) return [name, ''];
    if (name === 'definition') return [name, JSON.stringify(value)];
    if (name === 'enabled') return [name, value ? '1' : '0'];
    return [name, String(value)];
  });
}

export function decodeSchedule(hash: Record<string, string>): ScheduleRecord | null {
  if (!hash.id) return null;
  const record: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(hash)) {
    if (raw === '') record[name] = null;
    else if (name === 'definition') record[name] = JSON.parse(raw);
    else if (name === 'enabled') record[name] = raw === '1';
    else if (numbers.has(name)) record[name] = Number(raw);
    else record[name] = raw;
  }
  return record as unknown as ScheduleRecord;
}
