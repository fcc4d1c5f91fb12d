/** The message types every part of the facade shares, and their conversion from the native side. */

/** A position given by the caller: a number, or a bigint. */
export type Position = number | bigint;

/** A stored message. */
export interface Message {
  /** Its id (UUID). */
  id: string;
  /** The stream it belongs to. */
  streamName: string;
  /** Its type. */
  type: string;
  /** Its position in the stream (0-based, gapless). */
  position: number;
  /** Its position in the namespace (from 1). */
  globalPosition: number;
  /** The payload. */
  data: Record<string, unknown>;
  /** The metadata, `null` when none. */
  metadata: Record<string, unknown> | null;
  /** When it was written (UTC; the store keeps microseconds, a Date milliseconds). */
  time: Date;
}

/** A consumer group member: `member` of `size`. */
export interface ConsumerGroup {
  /** This member's number, from 0. */
  member: Position;
  /** How many members the group has. */
  size: Position;
}

/** @internal A number for the native side (`undefined` stays unset). */
export const num = (p: Position | undefined | null): number | undefined =>
  p === undefined || p === null ? undefined : Number(p);

/** @internal A message as the native side sends it (JSON). */
export interface RawMessage extends Omit<Message, "time"> {
  time: string;
}

/** @internal */
export const toMessage = (m: RawMessage): Message => ({ ...m, time: new Date(m.time) });
