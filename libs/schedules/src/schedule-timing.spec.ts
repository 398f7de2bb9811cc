import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextCronTime, planTicks, previewTicks, triggerProblems } from './schedule-timing.js';

const trigger = { cron: null, tz: 'UTC', every: null, at: null, runImmediately: false, startAt: null, endAt: null };
const now = Date.parse('2026-03-28T12:00:00.000Z');

describe('schedule timing', () => {
  it('follows the zone across a DST change', () => {
    // Berlin moves from UTC+1 to UTC+2 on 2026-03-29: 09:00 local is 08:00Z before, 07:00Z after.
    const first = nextCronTime('0 9 * * *', 'Europe/Berlin', now);
    const second = nextCronTime('0 9 * * *', 'Europe/Berlin', first);
    assert.equal(new Date(first).toISOString(), '2026-03-29T07:00:00.000Z');
    assert.equal(new Date(nextCronTime('0 9 * * *', 'Europe/Berlin', Date.parse('2026-03-27T12:00:00Z'))).toISOString(), '2026-03-28T08:00:00.000Z');
    assert.equal(new Date(second).toISOString(), '2026-03-30T07:00:00.000Z');
    assert.equal(new Date(nextCronTime('0 9 * * 1', 'America/New_York', now)).toISOString(), '2026-03-30T13:00:00.000Z');
  });

  it('starts `every` one interval on, at startAt, or at once when asked', () => {
    assert.deepEqual(planTicks({ ...trigger, every: 5000 }, { from: now, anchor: null }), { kind: 'scheduler', repeat: { every: 5000, startDate: now + 5000, endDate: undefined } });
    assert.equal((planTicks({ ...trigger, every: 5000, runImmediately: true }, { from: now, anchor: null }) as { repeat: { startDate: number } }).repeat.startDate, now);
    const startAt = '2026-04-01T00:00:00.000Z';
    assert.equal((planTicks({ ...trigger, every: 5000, startAt }, { from: now, anchor: null }) as { repeat: { startDate: number } }).repeat.startDate, Date.parse(startAt));
  });

  it('resumes `every` at the next slot of its first tick, never at once', () => {
    const anchor = now - 12_500;
    const plan = planTicks({ ...trigger, every: 5000 }, { from: now, anchor }) as { repeat: { startDate: number } };
    assert.equal(plan.repeat.startDate, now + 2500);
  });

  it('plans one-off and manual schedules', () => {
    assert.deepEqual(planTicks({ ...trigger, at: '2026-03-29T00:00:00.000Z' }, { from: now, anchor: null }), { kind: 'once', at: Date.parse('2026-03-29T00:00:00.000Z') });
    assert.deepEqual(planTicks(trigger, { from: now, anchor: null }), { kind: 'none' });
  });

  it('names what is wrong with a trigger', () => {
    const problems = (t: object) => triggerProblems({ ...trigger, ...t }, now).map((p) => p.path);
    assert.deepEqual(problems({ cron: '* * * * *', every: 1000 }), ['every']);
    assert.deepEqual(problems({ cron: '0 9 * * 1-5', tz: 'Europe/Berlin' }), []);
    assert.deepEqual(problems({ cron: '0 0 * * * * *' }), ['cron']);
    assert.deepEqual(problems({ cron: '*/59 */23 * * *' }), []);
    assert.deepEqual(problems({ cron: '*/90 * * * *' }), ['cron']);
    assert.deepEqual(problems({ cron: '*/61 * * * * *' }), ['cron']);
    assert.deepEqual(problems({ cron: '0 0 1-10/40 * *' }), ['cron']);
    assert.deepEqual(problems({ tz: 'Nowhere/Land' }), ['tz']);
    assert.deepEqual(problems({ at: '2026-03-28T11:59:59.000Z' }), ['at']);
    assert.deepEqual(problems({ every: 1000, runImmediately: true, startAt: '2026-04-01T00:00:00Z' }), ['runImmediately']);
    assert.deepEqual(problems({ every: 1000, startAt: '2026-04-02T00:00:00Z', endAt: '2026-04-01T00:00:00Z' }), ['endAt']);
  });

  it('previews the ticks as they will be registered', () => {
    const iso = (ticks: number[]) => ticks.map((tick) => new Date(tick).toISOString());
    // Across Berlin's spring change: 02:30 does not exist on 2026-03-29.
    assert.deepEqual(iso(previewTicks({ ...trigger, cron: '30 2 * * *', tz: 'Europe/Berlin' }, now, 3)), [
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    assert.deepEqual(iso(previewTicks({ ...trigger, every: 60_000 }, now, 2)), ['2026-03-28T12:01:00.000Z', '2026-03-28T12:02:00.000Z']);
    const startAt = '2026-04-01T00:00:00.000Z';
    assert.deepEqual(iso(previewTicks({ ...trigger, every: 60_000, startAt }, now, 2)), [startAt, '2026-04-01T00:01:00.000Z']);
  });
});
