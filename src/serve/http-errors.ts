/**
 * The one place where a failure becomes an HTTP answer: every {@link ErrorCode} has its status
 * (the Record type makes a new code a compile error here until it gets one), and every error
 * body is `{code, message}`. Errors that are not MammalsErrors are bugs: 500 with a generic
 * message (the details go to the log, not to the client).
 */
import { type ErrorCode, MammalsError } from "../core/errors.js";

export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  DIMENSION_MISMATCH: 400,
  UNKNOWN_NAME: 400,
  MALFORMED_BODY: 400,
  UNAUTHORIZED: 401,
  UNKNOWN_ID: 404,
  NOT_FOUND: 404,
  DUPLICATE_ID: 409,
  STATE: 409,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_FILE: 500,
  IO: 500,
  CAPACITY: 507,
  UNSUPPORTED: 501,
  UPSTREAM_UNAVAILABLE: 502,
  OVERLOADED: 503,
};

export interface ErrorBody {
  code: ErrorCode | "INTERNAL";
  message: string;
}

export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** Seconds a client is told to wait after a 503 (the queue drains within about this long). */
export const RETRY_AFTER_SECONDS = 1;

export function errorAnswer(e: unknown): ErrorAnswer {
  if (e instanceof MammalsError) {
    const status = HTTP_STATUS[e.code];
    const headers: Record<string, string> = {};
    if (status === 503) headers["Retry-After"] = String(RETRY_AFTER_SECONDS);
    if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="mammals"';
    return { status, body: { code: e.code, message: e.message }, headers };
  }
  return {
    status: 500,
    body: { code: "INTERNAL", message: "internal error; the server log has the details" },
    headers: {},
  };
}
