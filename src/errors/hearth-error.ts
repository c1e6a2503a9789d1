/** Error codes and the HTTP statuses the API answers them with. */
export const errorStatus = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  overloaded: 429,
  function_error: 500,
  out_of_memory: 500,
  timeout: 504,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export interface HearthErrorOptions {
  /** The invocation the error ended: the caller can still look up its record and logs. */
  invocationId?: string;
  /** Whether that invocation had to start a container first. */
  coldStart?: boolean;
  /** When a refused caller may try again (sent as Retry-After). */
  retryAfterSeconds?: number;
}

/**
 * An error meant for the API caller: its code and message are shown as they are.
 *
 * @example
 * throw new HearthError('timeout', `no answer from function ${name}`, { invocationId });
 */
export class HearthError extends Error {
  readonly code: ErrorCode;
  readonly invocationId: string | undefined;
  readonly coldStart: boolean | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: HearthErrorOptions = {}) {
    super(message);
    this.name = 'HearthError';
    this.code = code;
    this.invocationId = options.invocationId;
    this.coldStart = options.coldStart;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): (typeof errorStatus)[ErrorCode] {
    return errorStatus[this.code];
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorStatus, code);
}
