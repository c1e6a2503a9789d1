import { randomBytes } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { passOrder } from './dispatch-order.ts';
import { takeAt } from './placement.ts';
import { HeldJobs } from './held-jobs.ts';
import { LaneWorker, stalledCheckMs, type InvocationBullJob } from './lane-worker.ts';
import { StallWatch } from './stall-watch.ts';
import { WarmDirectory } from './warm-directory.ts';
import { NO_WARMTH, type Warmth } from './warmth.ts';
import { WorkSignal, wakeChannel } from './work-signal.ts';
import { JobReturnedToQueue } from './return-to-queue.ts';
import { queueNameFor, type InvocationResult } from './invocation.ts';

export interface DispatcherOptions {
  /** The node's shared command connection: every lane's fetches and moves go through it. */
  connection: Redis;
  /** The node's shared subscriber connection (wake-ups and warm sets arrive there). */
  subscriber: Redis;
  prefix: string;
  /** This node's name (shown in records); the dispatcher adds a per-process suffix for its tokens. */
  node: string;
  /** Lock duration of taken jobs; locks are renewed every third of it, stalled checks run every quarter. */
  lockMs: number;
  /** How long a node without a warm container leaves a new job to a node with one. */
  coldStartDelayMs: number;
  /** This node's warm containers per function (from the pool). */
  warmth: () => Warmth;
  /** Runs one delivery; a throw asks BullMQ for a retry after its backoff. */
  process: (job: InvocationBullJob) => Promise<InvocationResult>;
  /** The job was lost with its node too often: BullMQ fails it without running it. */
  lost: (job: InvocationBullJob, reason: string) => Promise<void>;
  onError: (message: string, err: Error) => void;
  /** How often the due index is read (safety net for missed wake-ups, delayed jobs, dead nodes' work). */
  sweepMs?: number;
}

/** One function's queue as this node serves it. */
interface Lane {
  fn: string;
  worker: LaneWorker;
  /** maxContainers × concurrency: jobs of the function this node runs at once. */
  limit: number;
  inFlight: number;
  /** The queue may hold waiting jobs: the next pass fetches from it. */
  ready: boolean;
  /**
   * Nobody said there is work (start, sweep, reconnect, after an error): the next pass looks
   * before it takes, so an empty queue costs one command and does not get stalled-checked.
   */
  probe: boolean;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  removed: boolean;
  runs: Set<Promise<void>>;
}

const DEFAULT_SWEEP_MS = 2_000;
/** Wait after a Redis error before a lane is tried again. */
const RETRY_MS = 1_000;
/** How old a cached view of the pool's warmth may be. */
const WARMTH_FRESH_MS = 50;
/** How often the warm set is compared with the last one announced (containers are reaped meanwhile). */
const WARM_CHECK_MS = 1_000;

/**
 * One dispatcher per node, pulling jobs from every function queue it has capacity for with
 * BullMQ's manual job processing, over the node's two shared connections: however many functions
 * are deployed, no connection per function and, idle, a few commands a second in all.
 *
 * A job is announced on the wake channel; the dispatcher takes it at once if a warm container of
 * the function is idle here or on no other node, else after the cold-start delay (a node with a
 * warm container usually has it by then). Each pass takes one job from every function with work,
 * warm ones first, round robin within (fair: a busy function does not starve a quiet one), up to
 * the function's limit on this node; a finished job fetches the next of its function in the same
 * round trip. Locks of running jobs are renewed; BullMQ's stalled check brings back the jobs of a
 * node that died.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly held = new HeldJobs();
  private readonly signal: WorkSignal;
  private readonly directory: WarmDirectory;
  private readonly stalls: StallWatch;
  private readonly instance: string;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly onMessage = (channel: string, message: string) => this.heard(channel, message);
  private readonly onReconnect = () => this.wakeAll();
  private warmth: Warmth = NO_WARMTH;
  private warmthAt = 0;
  private cursor: string | undefined;
  private pumping = false;
  private pumped: Promise<void> = Promise.resolve();
  private pumpAgain = false;
  private closed = false;
  private seq = 0;

  constructor(private readonly opts: DispatcherOptions) {
    this.instance = `${opts.node}/${randomBytes(3).toString('hex')}`;
    this.signal = new WorkSignal(opts.connection, opts.prefix);
    this.directory = new WarmDirectory(opts.connection, opts.prefix, this.instance);
    this.stalls = new StallWatch(opts.connection, opts.prefix, {
      intervalMs: stalledCheckMs(opts.lockMs),
      lane: (fn) => this.lanes.get(fn)?.worker,
      // Every node hears it: the one with a warm container takes the job back first.
      onReturned: (fn) => void this.signal.workAdded(fn),
      onError: (err) => opts.onError('stalled check failed', err),
    });
  }

  async start(): Promise<void> {
    const { subscriber, prefix } = this.opts;
    subscriber.on('message', this.onMessage);
    // Messages sent while the subscriber was away are lost: look at every queue once.
    subscriber.on('ready', this.onReconnect);
    await subscriber.subscribe(wakeChannel(prefix), this.directory.channel);
    this.stalls.start();
    this.every(this.opts.sweepMs ?? DEFAULT_SWEEP_MS, () => this.sweep());
    // Keeps running while close() waits for the jobs in flight.
    this.every(Math.max(1, Math.floor(this.opts.lockMs / 3)), () => this.renewLocks(), { whileClosing: true });
    this.every(WARM_CHECK_MS, async () => this.directory.announce(this.currentWarmth(true).warm));
  }

  /** Serves the function's queue, with at most `limit` of its jobs running here at once. */
  ensure(fn: string, limit: number): void {
    const existing = this.lanes.get(fn);
    if (existing && !existing.removed) {
      existing.limit = limit;
      this.pump();
      return;
    }
    const lane: Lane = {
      fn,
      worker: new LaneWorker(queueNameFor(fn), this.opts.connection, { prefix: this.opts.prefix, lockMs: this.opts.lockMs }),
      limit,
      inFlight: 0,
      ready: true, // jobs may be waiting from before this node knew the function
      probe: true,
      timer: undefined,
      timerAt: 0,
      removed: false,
      runs: new Set(),
    };
    // Redis hiccups surface here; the lane retries by itself.
    lane.worker.on('error', () => undefined);
    this.lanes.set(fn, lane);
    this.pump();
  }

  /** Stops serving the function; waits for its jobs running here. */
  async remove(fn: string): Promise<void> {
    const lane = this.lanes.get(fn);
    if (!lane) return;
    this.lanes.delete(fn);
    lane.removed = true;
    clearTimeout(lane.timer);
    this.stalls.forget(fn);
    await Promise.all(lane.runs);
    await lane.worker.close().catch(() => undefined);
  }

  /** Takes no more jobs, waits for those running (their locks renewed meanwhile), then lets go of Redis. */
  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes.values()) clearTimeout(lane.timer);
    // A fetch under way may still hand out a job: wait for it before counting what runs.
    await this.pumped;
    await Promise.all([...this.lanes.values()].flatMap((lane) => [...lane.runs]));
    for (const t of this.timers) clearInterval(t);
    await this.stalls.close();
    // The subscriber's owner quits it (unsubscribing from a connection on its way out fails with EPIPE).
    const { subscriber } = this.opts;
    subscriber.off('message', this.onMessage);
    subscriber.off('ready', this.onReconnect);
    // Other nodes stop waiting on containers that are about to go.
    if (this.opts.connection.status === 'ready') await this.directory.announce(new Set(), true);
    await Promise.all([...this.lanes.values()].map((lane) => lane.worker.close().catch(() => undefined)));
    this.lanes.clear();
  }

  private every(ms: number, task: () => Promise<unknown>, o: { whileClosing?: boolean } = {}): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || (this.closed && !o.whileClosing)) return;
      running = true;
      task().catch((err: Error) => this.opts.onError('dispatch timer failed', err)).finally(() => {
        running = false;
      });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private heard(channel: string, message: string): void {
    if (channel === this.directory.channel) {
      this.directory.heard(message);
      return;
    }
    if (channel !== wakeChannel(this.opts.prefix)) return;
    const lane = this.lanes.get(message);
    if (!lane || lane.ready) return;
    const warmth = this.currentWarmth();
    this.readyAt(lane, takeAt({
      warmHere: warmth.idle.has(lane.fn),
      warmElsewhere: this.directory.warmElsewhere(lane.fn),
      announcedAt: Date.now(),
      coldStartDelayMs: this.opts.coldStartDelayMs,
    }));
  }

  private wakeAll(): void {
    for (const lane of this.lanes.values()) this.probeSoon(lane);
    this.pump();
  }

  private async sweep(): Promise<void> {
    for (const fn of await this.signal.dueNow()) {
      const lane = this.lanes.get(fn);
      if (lane) this.probeSoon(lane);
    }
    this.pump();
  }

  /** Marks a lane to be looked at (not taken from blindly) in the next pass. */
  private probeSoon(lane: Lane): void {
    if (lane.ready) return;
    lane.ready = true;
    lane.probe = true;
  }

  private currentWarmth(fresh = false): Warmth {
    const now = Date.now();
    if (fresh || now - this.warmthAt > WARMTH_FRESH_MS) {
      this.warmth = this.opts.warmth();
      this.warmthAt = now;
    }
    return this.warmth;
  }

  /** The lane is tried at `at` (epoch ms), or now if that has passed; `probe`: look before taking. */
  private readyAt(lane: Lane, at: number, probe = false): void {
    const delay = at - Date.now();
    if (delay <= 0) {
      if (probe) this.probeSoon(lane);
      else {
        lane.ready = true;
        lane.probe = false;
      }
      this.pump();
      return;
    }
    if (lane.timer && lane.timerAt <= at) return;
    clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      if (probe) this.probeSoon(lane);
      else {
        lane.ready = true;
        lane.probe = false;
      }
      this.pump();
    }, delay);
    lane.timer.unref();
  }

  private canTake(lane: Lane): boolean {
    return lane.ready && !lane.removed && lane.inFlight < lane.limit;
  }

  /** Passes until no lane with capacity may hold waiting jobs; one pump at a time. */
  private pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.pumped = this.passes().finally(() => {
      this.pumping = false;
    });
  }

  private async passes(): Promise<void> {
    do {
      this.pumpAgain = false;
      for (;;) {
        if (this.closed) return;
        const ready = new Set([...this.lanes.values()].filter((l) => this.canTake(l)).map((l) => l.fn));
        if (ready.size === 0) break;
        const idle = this.currentWarmth().idle;
        const order = passOrder([...this.lanes.keys()], ready, this.cursor, (fn) => idle.has(fn));
        this.cursor = order[0];
        for (const fn of order) {
          const lane = this.lanes.get(fn);
          if (lane && this.canTake(lane) && !this.closed) await this.fetch(lane);
        }
      }
    } while (this.pumpAgain);
  }

  private async fetch(lane: Lane): Promise<void> {
    const token = `${this.instance}:${this.seq++}`;
    try {
      if (lane.probe) {
        lane.probe = false;
        const due = await this.signal.settle(lane.fn);
        if (due === 0 || due > Date.now()) {
          lane.ready = false;
          if (due > 0) this.readyAt(lane, due);
          return;
        }
      }
      await this.stalls.beforeTake(lane.fn);
      const taken = await lane.worker.take(token);
      if (taken.job) {
        this.run(lane, taken.job, token);
        return;
      }
      lane.ready = false;
      const due = await this.signal.settle(lane.fn);
      // Jobs arrived between the fetch and the settle (their wake-up is on its way too), or
      // waiting jobs BullMQ would not hand out now: look again shortly rather than spin.
      if (due === -1) this.readyAt(lane, Date.now() + 100, true);
      else if (due > 0) this.readyAt(lane, due);
    } catch (err) {
      lane.ready = false;
      this.opts.onError(`fetching from ${lane.fn} failed`, err as Error);
      this.readyAt(lane, Date.now() + RETRY_MS, true);
    }
  }

  /** Runs the job, and the next ones of its function fetched as each finishes, in one slot. */
  private run(lane: Lane, first: InvocationBullJob, token: string): void {
    lane.inFlight++;
    const slot = (async () => {
      let job: InvocationBullJob | undefined = first;
      while (job) job = await this.runOne(lane, job, token);
    })()
      .catch((err: Error) => this.opts.onError(`running a job of ${lane.fn} failed`, err))
      .finally(() => {
        lane.inFlight--;
        lane.runs.delete(slot);
        this.warmthAt = 0;
        void this.directory.announce(this.currentWarmth().warm);
        this.pump();
      });
    lane.runs.add(slot);
  }

  private async runOne(lane: Lane, job: InvocationBullJob, token: string): Promise<InvocationBullJob | undefined> {
    const release = this.held.hold(lane.fn, lane.worker, job, token);
    try {
      if (job.deferredFailure) {
        await this.opts.lost(job, job.deferredFailure).catch((err: Error) => this.opts.onError('recording a lost job failed', err));
        await lane.worker.fail(job, new UnrecoverableError(job.deferredFailure), token, false);
        return undefined;
      }
      let value: InvocationResult | undefined;
      let failure: Error | undefined;
      try {
        value = await this.opts.process(job);
      } catch (err) {
        failure = err as Error;
      }
      // The container just used is idle now: the next job of the function goes to it.
      const fetchNext = lane.ready && !lane.removed && !this.closed && lane.inFlight <= lane.limit;
      // A stop gave it back (returnToQueue): it is waiting again, not ours to finish.
      if (failure instanceof JobReturnedToQueue) return undefined;
      if (failure) {
        const next = await lane.worker.fail(job, failure, token, fetchNext);
        // The retry waits in the delayed set: a fetch learns when it is due.
        lane.ready = true;
        return next;
      }
      return await lane.worker.complete(job, value!, token, fetchNext);
    } finally {
      release();
    }
  }

  private async renewLocks(): Promise<void> {
    for (const { fn, jobIds } of await this.held.renew(this.opts.lockMs)) {
      this.opts.onError(`lost the lock of ${jobIds.length} job(s) of ${fn}`, new Error(jobIds.join(', ')));
    }
  }
}
