import { validateAs } from '@conveyor/contracts';
import { ApiError } from '@conveyor/service';

/** The validated request body or query, or a 400 naming every bad field. */
export function parseRequest<T extends object>(cls: new () => T, value: unknown): T {
  const result = validateAs(cls, value ?? {});
  if (!result.ok) throw ApiError.validation(result.errors);
  return result.value;
}
