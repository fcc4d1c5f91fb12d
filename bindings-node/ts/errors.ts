/**
 * The error classes of messagedb: one per stable code (see bindings.md). Every error thrown by the
 * package is a {@link MessageDBError} with a `code`.
 */

/** Base class of every messagedb error. */
export class MessageDBError extends Error {
  /** The stable code, e.g. `STREAM_VERSION_CONFLICT`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `INVALID_REQUEST`: the input was rejected; nothing was written. */
export class InvalidRequestError extends MessageDBError {}

/** `STREAM_VERSION_CONFLICT`: the stream was not at the expected version; nothing was written. */
export class VersionConflictError extends MessageDBError {
  /** The version the write expected (-1: no stream). */
  readonly expected: number;
  /** The stream's actual version (-1: no messages). */
  readonly actual: number;
  constructor(code: string, message: string, expected: number, actual: number) {
    super(code, message);
    this.expected = expected;
    this.actual = actual;
  }
}

/** `DUPLICATE_MESSAGE_ID`: a message with this id exists; nothing was written. */
export class DuplicateMessageIdError extends MessageDBError {}

/** `POSITION_EXISTS`: an imported position is taken. */
export class PositionExistsError extends MessageDBError {}

/** `NAMESPACE_NOT_FOUND`. */
export class NamespaceNotFoundError extends MessageDBError {}

/** `NAMESPACE_EXISTS`. */
export class NamespaceExistsError extends MessageDBError {}

/** `AUTH_*`: from the server only. */
export class AuthError extends MessageDBError {}

/** `CLOSED`: the store was closed. */
export class ClosedError extends MessageDBError {}

/** `BACKEND_ERROR`: the database failed. */
export class BackendError extends MessageDBError {
  /** Whether the same call may succeed when tried again. */
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean) {
    super(code, message);
    this.retryable = retryable;
  }
}

const NATIVE = /^\[([A-Z_]+)((?: [a-z]+=[^ \]]*)*)\] ([\s\S]*)$/;

/**
 * Builds the error class of a code. The server's HTTP errors and the native errors both go through
 * here, so the classes cannot drift between the two.
 */
export function errorFor(code: string, message: string, details: Record<string, unknown> = {}): MessageDBError {
  switch (code) {
    case "INVALID_REQUEST":
      return new InvalidRequestError(code, message);
    case "STREAM_VERSION_CONFLICT":
      return new VersionConflictError(code, message, Number(details.expected), Number(details.actual));
    case "DUPLICATE_MESSAGE_ID":
      return new DuplicateMessageIdError(code, message);
    case "POSITION_EXISTS":
      return new PositionExistsError(code, message);
    case "NAMESPACE_NOT_FOUND":
      return new NamespaceNotFoundError(code, message);
    case "NAMESPACE_EXISTS":
      return new NamespaceExistsError(code, message);
    case "CLOSED":
      return new ClosedError(code, message);
    case "BACKEND_ERROR":
      return new BackendError(code, message, details.retryable === true || details.retryable === "true");
    // AUTH_* codes are AuthError. METHOD_NOT_FOUND and NOT_FOUND (a server without that method or
    // path), SERVER_START_FAILED (serve() could not start) and codes of a newer server: the base
    // class, with the code.
    default:
      return code.startsWith("AUTH_") ? new AuthError(code, message) : new MessageDBError(code, message);
  }
}

/** The one conversion point of native errors (`[CODE key=value…] message`) to typed classes. */
export function toMessageDBError(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof MessageDBError) return e;
  const m = NATIVE.exec(e.message);
  if (!m) return e;
  const details: Record<string, string> = {};
  for (const pair of m[2].trim().split(" ").filter(Boolean)) {
    const [k, v] = pair.split("=");
    details[k] = v;
  }
  return errorFor(m[1], m[3], details);
}
