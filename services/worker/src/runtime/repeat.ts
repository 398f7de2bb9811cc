/**
 * Runs `work` every `ms` (and `atOnce`, at once too), skipping a turn while the previous one is still
 * going (Redis may be slow or away).
 */
export function repeat(ms: number, work: () => Promise<void>, onError: (err: unknown) => void, { atOnce = false } = {}): NodeJS.Timeout {
  let busy = false;
  const turn = () => {
    if (busy) return;
    busy = true;
    work()
      .catch(onError)
      .finally(() => (busy = false));
  };
  const timer = setInterval(turn, ms);
  timer.unref();
  if (atOnce) turn();
  return timer;
}
