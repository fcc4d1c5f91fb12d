// Assertion helpers of the store scenarios (./scenarios.ts, ./scenarios-live.ts) and the other
// store tests.
import { expect } from "bun:test";
import { MessageDBError } from "messagedb";
import type { Message, NamespaceLike } from "./types";

/** Awaits a rejection and checks its class, code and exact message; returns the error. */
export async function expectRejects<E extends MessageDBError>(
  p: Promise<unknown>,
  cls: abstract new (...args: any[]) => E,
  code: string,
  message: string,
): Promise<E> {
  let error: unknown;
  let value: unknown;
  try {
    value = await p;
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected ${cls.name} (${code}: ${message}), got the value ${JSON.stringify(value)}`);
  const e = error as E;
  expect({ class: (e as object).constructor?.name, code: e.code, message: e.message }).toEqual({ class: cls.name, code, message });
  expect(e).toBeInstanceOf(cls);
  expect(e).toBeInstanceOf(MessageDBError);
  expect(e).toBeInstanceOf(Error);
  expect(e.name).toBe(cls.name);
  return e;
}

/** `[streamName, position, globalPosition, type]` of each message, for compact assertions. */
export const brief = (ms: Message[]) => ms.map((m) => [m.streamName, m.position, m.globalPosition, m.type]);
export const gpos = (ms: Message[]) => ms.map((m) => m.globalPosition);
export const streams = (ms: Message[]) => ms.map((m) => m.streamName);

export function expectRecent(d: Date | null) {
  expect(d).toBeInstanceOf(Date);
  expect(Math.abs(Date.now() - d!.getTime())).toBeLessThan(60_000);
}

/** Writes a message `{i}` of `type` to each stream in order. */
export async function writeEach(ns: NamespaceLike, names: string[], type = "Event") {
  const out = [];
  for (const [i, s] of names.entries()) out.push(await ns.write(s, { type, data: { i } }));
  return out;
}
