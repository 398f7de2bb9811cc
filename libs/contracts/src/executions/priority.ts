/** Named priorities and their BullMQ numbers: lower runs first. */
export const priorityLevels = { critical: 1, high: 10, normal: 100, low: 1000 } as const;

export type PriorityName = keyof typeof priorityLevels;
export type Priority = PriorityName | number;

/** BullMQ's largest priority (2^21 − 1). */
export const maxPriority = 2_097_151;

export function isPriority(value: unknown): value is Priority {
  if (typeof value === 'string') return Object.hasOwn(priorityLevels, value);
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= maxPriority;
}

export function priorityNumber(priority: Priority): number {
  return typeof priority === 'number' ? priority : priorityLevels[priority];
}
