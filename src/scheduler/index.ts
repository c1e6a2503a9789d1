export { InvocationProducer } from './producer.ts';
export { InvocationWorkers } from './worker-set.ts';
export { ReplyChannel, publishReply } from './reply-channel.ts';
export { SyncInvoker, START_MARGIN_MS } from './sync-invoker.ts';
export { createExecutor } from './executor.ts';
export { Backpressure, overloadedError } from './backpressure.ts';
export { queueNameFor } from './invocation.ts';
export type { InvocationExecutor, InvocationJob, InvocationResult, LogEntry } from './invocation.ts';
export type { SyncInvokeOptions } from './sync-invoker.ts';
