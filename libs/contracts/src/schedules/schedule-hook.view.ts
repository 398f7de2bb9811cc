/** An inbound hook of a schedule as lists show it: never its token or secret. */
export interface ScheduleHookView {
  id: string;
  scheduleId: string;
  description: string | null;
  createdAt: string;
}

/**
 * A new hook: its trigger URL (the token in it is the credential: no API key is needed to call it)
 * and the secret that signs calls (`Conveyor-Signature`). Both are shown only in this answer.
 */
export interface CreatedScheduleHookView extends ScheduleHookView {
  url: string;
  secret: string;
}

/** `POST /v1/hooks/<token>` answers the execution it started (or, for a repeated `Idempotency-Key`, the first one). */
export interface HookRunView {
  id: string;
}

/** The format of a hook's token: 32 random bytes, so that it cannot be guessed and a fast hash is all it needs. */
export const hookTokenPattern = /^hkt_[A-Za-z0-9_-]{43}$/;
