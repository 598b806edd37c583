/**
 * One typed error for the whole project. Every failure the user can cause carries a code from
 * {@link ErrorCodes}; the HTTP layer and the CLI map codes to statuses / exit codes in one place.
 * Messages say what was expected and what arrived.
 */
export const ErrorCodes = {
  INVALID_ARGUMENT: "invalid argument (bad value, NaN, out of range)",
  DIMENSION_MISMATCH: "vector length does not match the expected dimension",
  UNKNOWN_NAME: "unknown index, model, policy, dataset or parameter name",
  UNKNOWN_ID: "an id that is not stored",
  DUPLICATE_ID: "an id that is already stored",
  BAD_FILE: "a file is missing, truncated or not in the expected format",
  IO: "the system could not read or write a file (disk full, permission denied, ...)",
  CAPACITY: "a capacity or memory budget would be exceeded",
  UNSUPPORTED: "an operation this implementation does not support in this runtime",
  STATE: "an operation called in the wrong state",
  MALFORMED_BODY: "a request body that cannot be parsed (invalid JSON, a binary body of the wrong size)",
  TOO_LARGE: "a request body or batch over its size limit",
  UNSUPPORTED_MEDIA_TYPE: "a request body in a content type the endpoint does not accept",
  UNAUTHORIZED: "a missing or wrong API key",
  NOT_FOUND: "no such endpoint",
  OVERLOADED: "the service's queue is full; retry later",
  UPSTREAM_UNAVAILABLE: "the upstream did not answer (timeout, error, or its circuit is open)",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class MammalsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MammalsError";
    this.code = code;
  }
}

export function fail(code: ErrorCode, message: string, options?: { cause?: unknown }): never {
  throw new MammalsError(code, message, options);
}

/** Throws INVALID_ARGUMENT unless `cond` holds. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) fail("INVALID_ARGUMENT", typeof message === "function" ? message() : message);
}

export function isMammalsError(e: unknown, code?: ErrorCode): e is MammalsError {
  return e instanceof MammalsError && (code === undefined || e.code === code);
}
