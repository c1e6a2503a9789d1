import type { ErrorResponse } from '../api/index.ts';

export type ApiErrorCode = ErrorResponse['error']['code'];

/** A JSON error answered by the server (`{"error": {"code", "message"}}`), or `unreachable` when there was no answer. */
export class HearthApiError extends Error {
  constructor(
    readonly code: ApiErrorCode | 'unreachable' | (string & {}),
    message: string,
    readonly status: number,
    /** Set for invocation errors: the id to fetch logs with. */
    readonly invocationId?: string,
  ) {
    super(message);
    this.name = 'HearthApiError';
  }
}
