import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent, DashboardSessionView } from '@conveyor/contracts/core';

type Listener = (event: ConveyorEvent) => void;

/** `connecting` until the first answer; `down` while the monitor cannot be reached (socket.io keeps trying). */
export type LiveState = 'connecting' | 'live' | 'down';

/** While not live, pages read REST again this often. */
const restRefreshMs = 5000;

/**
 * The tenant's room, joined once for the whole page. Views listen to its events, and reload on
 * `rejoined` (the first join, and after a reconnect, when events may have been missed) — and every
 * few seconds while the live connection is down, so that every page still shows what REST says.
 */
export class LiveFeed {
  private readonly listeners = new Set<Listener>();
  private readonly rejoinListeners = new Set<() => void>();
  private readonly stateListeners = new Set<(state: LiveState) => void>();
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  state: LiveState = 'connecting';

  constructor(readonly client: ConveyorClient) {
    client.follow(
      { tenant: true },
      {
        onEvent: (event) => this.listeners.forEach((listener) => listener(event)),
        onCounts: () => this.reloadAll(),
      },
    );
    const socket = client.connection().socket;
    socket.on('connect', () => this.setState('live'));
    socket.on('disconnect', () => this.setState('down'));
    socket.on('connect_error', () => this.setState('down'));
  }

  on(listener: Listener, onRejoin: () => void): () => void {
    this.listeners.add(listener);
    this.rejoinListeners.add(onRejoin);
    return () => {
      this.listeners.delete(listener);
      this.rejoinListeners.delete(onRejoin);
    };
  }

  onState(listener: (state: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private setState(state: LiveState): void {
    if (state === this.state) return;
    this.state = state;
    clearInterval(this.refreshTimer);
    this.stateListeners.forEach((listener) => listener(state));
    if (state !== 'down') return;
    this.reloadAll();
    this.refreshTimer = setInterval(() => this.reloadAll(), restRefreshMs);
  }

  private reloadAll(): void {
    this.rejoinListeners.forEach((listener) => listener());
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

/** Whether the page is live: the socket.io connection to the monitor is up, being made, or cannot be made. */
export function useLiveState(): LiveState {
  const { live } = useApp();
  const [state, setState] = useState(live.state);
  useEffect(() => {
    setState(live.state);
    return live.onState(setState);
  }, [live]);
  return state;
}

/** Whether the session's role may change things (a `read` key sees the pages without their controls). */
export const useCanWrite = () => useApp().session.role !== 'read';

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
