/** Error codes and their HTTP statuses, as DESIGN.md fixes them. */
export const errorStatus = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  overloaded: 429,
  function_error: 500,
  out_of_memory: 500,
  timeout: 504,
  /** Redis unreachable, full, or the server is starting or stopping: try again (Retry-After says when). */
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** An error meant for the API caller: its code and message are shown as they are. */
export class HearthError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'HearthError';
    this.code = code;
    this.details = details;
  }

  get status(): (typeof errorStatus)[ErrorCode] {
    return errorStatus[this.code];
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorStatus, code);
}
