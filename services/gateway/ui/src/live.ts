import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent, DashboardSessionView } from '@conveyor/contracts/core';

type Listener = (event: ConveyorEvent) => void;

/**
 * The tenant's room, joined once for the whole page. Views listen to its events, and reload on
 * `rejoined` (the first join, and after a reconnect, when events may have been missed).
 */
export class LiveFeed {
  private readonly listeners = new Set<Listener>();
  private readonly rejoinListeners = new Set<() => void>();

  constructor(readonly client: ConveyorClient) {
    client.follow(
      { tenant: true },
      {
        onEvent: (event) => this.listeners.forEach((listener) => listener(event)),
        onCounts: () => this.rejoinListeners.forEach((listener) => listener()),
      },
    );
  }

  on(listener: Listener, onRejoin: () => void): () => void {
    this.listeners.add(listener);
    this.rejoinListeners.add(onRejoin);
    return () => {
      this.listeners.delete(listener);
      this.rejoinListeners.delete(onRejoin);
    };
  }
}

export interface AppContext {
  client: ConveyorClient;
  live: LiveFeed;
  bullBoardPath: string;
  /** Who the page acts for. */
  session: DashboardSessionView;
}

export const App = createContext<AppContext>(null as unknown as AppContext);

export const useApp = () => useContext(App);

/** Calls `onEvent` with each live event of the tenant and `reload` after each (re)join, with the latest closures. */
export function useLive(onEvent: Listener, reload: () => void): void {
  const { live } = useApp();
  const latest = useRef({ onEvent, reload });
  latest.current = { onEvent, reload };
  useEffect(
    () =>
      live.on(
        (event) => latest.current.onEvent(event),
        () => latest.current.reload(),
      ),
    [live],
  );
}

/** A trigger for `load`: it runs soon after the first call, then at most once every `intervalMs` however often triggered. */
export function useThrottled(load: () => void, intervalMs: number): () => void {
  const latest = useRef(load);
  latest.current = load;
  const state = useRef<{ timer: ReturnType<typeof setTimeout> | null; last: number }>({ timer: null, last: 0 });
  useEffect(() => () => clearTimeout(state.current.timer ?? undefined), []);
  return useRef(() => {
    const s = state.current;
    if (s.timer) return;
    const wait = Math.max(0, s.last + intervalMs - Date.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      s.last = Date.now();
      latest.current();
    }, wait);
  }).current;
}

/** The time, ticking every second (for "in 12 s" labels). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Whether the socket.io connection to the monitor is up. */
export function useConnected(): boolean {
  const { client } = useApp();
  const socket = client.connection().socket;
  const [connected, setConnected] = useState(socket.connected);
  useEffect(() => {
    const up = () => setConnected(true);
    const down = () => setConnected(false);
    socket.on('connect', up);
    socket.on('disconnect', down);
    setConnected(socket.connected);
    return () => {
      socket.off('connect', up);
      socket.off('disconnect', down);
    };
  }, [socket]);
  return connected;
}

/** Runs an action, keeping its error message for the view. */
export function useAction(): { busy: boolean; error: string | null; run: (action: () => Promise<unknown>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** An API error's message with the fields it names. */
export function describeError(err: unknown): string {
  const error = err as { message?: string; details?: { path: string; message: string }[] };
  const fields = (error.details ?? []).map((d) => `${d.path} ${d.message}`);
  return [error.message ?? String(err), ...fields].join(' · ');
}
