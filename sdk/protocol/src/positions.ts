/**
 * Positions: where a connection is in the stream of its events, so that after a reconnect it can
 * ask for what it missed (`since` on subscribe). Every event frame, `subscribed` reply and `pong`
 * carries one. A position is opaque to clients: compare positions only with each other, with
 * `comparePositions` (they also sort as plain strings). The rule a client follows is simple: keep
 * the greatest position received on the connection, from any frame, and send it as `since` for
 * every pattern it resubscribes to.
 *
 * On the server a position is the time (epoch ms, 13 digits) at which the event's delivery page
 * began, or at which the reply was made.
 */
export type Position = string;

const POSITION = /^\d{13}$/;

/** The key of `since` that asks for the connection's direct (user) messages. */
export const USER_STREAM = '$user';

/** The position of epoch milliseconds `ms`. */
export function positionAt(ms: number): Position {
  if (!Number.isInteger(ms) || ms < 0 || ms > 9_999_999_999_999) {
    throw new RangeError(`a position is a time from 0 to 9999999999999 ms, got ${ms}`);
  }
  return String(ms).padStart(13, '0');
}

/** Whether `value` is a position this protocol issues. */
export const isPosition = (value: unknown): value is Position =>
  typeof value === 'string' && POSITION.test(value);

/** Epoch milliseconds of a position (server side: how old a client's `since` is). */
export function positionTime(position: Position): number {
  if (!isPosition(position)) throw new RangeError(`"${position}" is not a position`);
  return Number(position);
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export const comparePositions = (a: Position, b: Position): number => (a < b ? -1 : a > b ? 1 : 0);

/** The later of two positions; `undefined` counts as the earliest. */
export function laterPosition(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}
