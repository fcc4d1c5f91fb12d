import { toMessageDBError } from "./errors";

/** Runs a native call and converts its error (the facade's one conversion point). */
export async function native<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toMessageDBError(e);
  }
}
