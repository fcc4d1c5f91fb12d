import { toMessageDBError } from "./errors";

/**
 * Runs a native call and converts its error (the facade's one conversion point). A native call
 * answers with its value when it completed without waiting, with a promise otherwise.
 */
export async function native<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toMessageDBError(e);
  }
}

/** {@link native} for a synchronous native call (creating a native object): its error is thrown. */
export function nativeSync<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw toMessageDBError(e);
  }
}
