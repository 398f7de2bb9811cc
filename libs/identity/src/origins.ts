/**
 * Whether a request may come from `origin`: browsers name the page's origin, which must be allowed;
 * other clients (backends, the SDK in Node) send none and prove themselves by their credential alone.
 */
export function isAllowedOrigin(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes(origin);
}
