/** Named priorities and their BullMQ numbers: lower runs first. */
export const priorityLevels = { critical: 1, high: 10, normal: 100, low: 1000 } as const;

export type PriorityName = keyof typeof priorityLevels;
export type Priority = PriorityName | number;

/** BullMQ's largest priority (2^21 − 1). */
export const maxPriority = 2_097_151;

/** The JSON Schema of a priority. */
export const prioritySchema = {
  oneOf: [{ enum: Object.keys(priorityLevels) }, { type: 'integer', minimum: 1, maximum: maxPriority }],
  description: 'critical, high, normal, low (= 1, 10, 100, 1000) or an integer; lower runs first.',
};

export function isPriority(value: unknown): value is Priority {
  if (typeof value === 'string') return Object.hasOwn(priorityLevels, value);
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= maxPriority;
}

export function priorityNumber(priority: Priority): number {
  return typeof priority === 'number' ? priority : priorityLevels[priority];
}
