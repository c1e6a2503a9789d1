import type { ErrorCode } from '../errors/index.ts';
import type { QueuedHttpRequest } from './http-job.ts';

/** How an invocation was started. */
export type InvocationTrigger = 'sync' | 'async' | 'schedule' | 'http';

/** Why an invocation failed, as the caller and the record show it. */
export interface InvocationError {
  code: ErrorCode;
  message: string;
  stack?: string;
}

/** What a queued invocation carries through Redis (BullMQ job data). */
export interface InvocationJob {
  invocationId: string;
  function: string;
  /** Pinned version; undefined runs whatever is current when a worker takes the job. */
  version?: number;
  event: unknown;
  enqueuedAt: number;
  /** Past this (epoch ms) the caller no longer waits: a worker that takes the job later skips it. */
  callerDeadline?: number;
  /** Pub/sub channel of the process waiting for the answer (sync invocations). */
  replyTo?: string;
  /** How it was started; default 'sync' with replyTo, else 'async'. */
  trigger?: InvocationTrigger;
  /** Keep the result in the sync invocation's record (an Idempotency-Key resubmission reads it). */
  keepResult?: boolean;
  /** An HTTP-trigger request the receiving node could not run itself: its response is the result. */
  http?: QueuedHttpRequest;
  /** Set on jobs a schedule produced (those carry no invocationId; the worker derives one per tick). */
  scheduleId?: string;
}

/** A job as a schedule's template stores it: the worker fills in the rest per tick. */
export type ScheduledJobData = Pick<InvocationJob, 'function' | 'event' | 'scheduleId' | 'trigger'> & Partial<InvocationJob>;

export interface LogEntry {
  time: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** What running an invocation produced: the reply to a sync caller and the job's return value. */
export interface InvocationResult {
  invocationId: string;
  function: string;
  version: number | null;
  ok: boolean;
  result?: unknown;
  error?: InvocationError;
  coldStart: boolean;
  containerId: string | null;
  queuedMs: number;
  durationMs: number;
  logs: LogEntry[];
  /** Ran straight in a warm container of the receiving process, without a trip through the queue. */
  direct?: boolean;
}

/** Runs one invocation to completion; never throws for function failures, only reports them. */
export type InvocationExecutor = (job: InvocationJob) => Promise<InvocationResult>;

/** BullMQ queue names cannot hold ':'; function names are [a-z0-9-] so this is unambiguous. */
export function queueNameFor(functionName: string): string {
  return `fn.${functionName}`;
}
