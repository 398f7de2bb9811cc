/** Calls `read` until `until` holds for its value; the timeout is only a guard against hangs. */
export async function poll<T>(
  read: () => Promise<T>,
  options: { until: (value: T) => boolean; timeoutMs?: number; label: string; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (options.until(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  throw new Error(`Timed out waiting for ${options.label}; last value: ${JSON.stringify(last)}`);
}
