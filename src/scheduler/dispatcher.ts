import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { passOrder } from './dispatch-order.ts';
import { JobPlacement } from './job-placement.ts';
import { HeldJobs } from './held-jobs.ts';
import { LaneWorker, stalledCheckMs, type InvocationBullJob } from './lane-worker.ts';
import { StallWatch } from './stall-watch.ts';
import { WarmDirectory } from './warm-directory.ts';
import type { Warmth } from './warmth.ts';
import { DispatchLane } from './dispatch-lane.ts';
import { LocalWarmth } from './local-warmth.ts';
import { PeriodicTasks } from './periodic-tasks.ts';
import { runJob, type RunJobDeps } from './run-job.ts';
import { WorkSignal, wakeChannel } from './work-signal.ts';
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

const DEFAULT_SWEEP_MS = 2_000;
/** Wait after a Redis error before a lane is tried again. */
const RETRY_MS = 1_000;
/** How soon a lane whose function's containers here were all busy with direct runs is looked at again. */
const ROOM_RECHECK_MS = 50;
/** How often the warm set is compared with the last one announced (containers are reaped meanwhile). */
const WARM_CHECK_MS = 1_000;

/**
 * One dispatcher per node, pulling jobs from every function queue it has capacity for with
 * BullMQ's manual job processing, over the node's two shared connections: however many functions
 * are deployed, no connection per function and, idle, a few commands a second in all.
 *
 * A job is announced on the wake channel; the dispatcher takes it at once if a warm container of
 * the function is idle here or on no other node, else once the job has waited the cold-start
 * delay (a node with a warm container usually has it by then; see JobPlacement). Each pass takes
 * one job from every function with work, warm ones first, round robin within (fair: a busy
 * function does not starve a quiet one), up to the function's limit on this node, counting what
 * the pool runs of it; a finished job fetches the next of its function in the same round trip. Locks of running jobs are renewed; BullMQ's stalled check brings back the jobs of a
 * node that died.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, DispatchLane>();
  private readonly held = new HeldJobs();
  private readonly signal: WorkSignal;
  private readonly directory: WarmDirectory;
  private readonly stalls: StallWatch;
  private readonly instance: string;
  private readonly tasks: PeriodicTasks;
  private readonly warmth: LocalWarmth;
  private readonly runDeps: RunJobDeps;
  private readonly placement: JobPlacement;
  private readonly onMessage = (channel: string, message: string) => this.heard(channel, message);
  private readonly onReconnect = () => this.wakeAll();
  private cursor: string | undefined;
  private pumping = false;
  private pumped: Promise<void> = Promise.resolve();
  private pumpAgain = false;
  private roomTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private seq = 0;

  constructor(private readonly opts: DispatcherOptions) {
    this.instance = `${opts.node}/${randomBytes(3).toString('hex')}`;
    this.tasks = new PeriodicTasks((err) => opts.onError('dispatch timer failed', err));
    this.warmth = new LocalWarmth(opts.warmth);
    this.signal = new WorkSignal(opts.connection, opts.prefix);
    this.runDeps = {
      connection: opts.connection,
      held: this.held,
      process: opts.process,
      lost: opts.lost,
      returned: (fn) => void this.signal.workAdded(fn),
      onError: opts.onError,
      closing: () => this.closed,
    };
    this.directory = new WarmDirectory(opts.connection, opts.prefix, this.instance);
    this.placement = new JobPlacement({ signal: this.signal, directory: this.directory, warmth: this.warmth, coldStartDelayMs: opts.coldStartDelayMs });
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
    this.tasks.every(this.opts.sweepMs ?? DEFAULT_SWEEP_MS, () => this.sweep());
    // Keeps running while close() waits for the jobs in flight.
    this.tasks.every(Math.max(1, Math.floor(this.opts.lockMs / 3)), () => this.renewLocks(), { whileClosing: true });
    this.tasks.every(WARM_CHECK_MS, async () => this.directory.announce(this.warmth.current(true).warm));
  }

  /** Another live node announced warm containers of the function (no Redis command). */
  warmElsewhere(fn: string): boolean {
    return this.directory.warmElsewhere(fn);
  }

  /** No other node is known to live: a call nobody else could take without evicting may evict here. */
  alone(): boolean {
    return this.directory.alone();
  }

  /**
   * The pool started a container outside the queue (a direct call's first one): the other nodes
   * hear of it now, not at the next periodic check, so their next call of it comes here.
   */
  warmthChanged(): void {
    this.warmth.invalidate();
    void this.directory.announce(this.warmth.current().warm);
  }

  /** Serves the function's queue, with at most `limit` of its jobs running here at once. */
  ensure(fn: string, limit: number): void {
    const existing = this.lanes.get(fn);
    if (existing && !existing.removed) {
      existing.limit = limit;
      this.pump();
      return;
    }
    const worker = new LaneWorker(queueNameFor(fn), this.opts.connection, { prefix: this.opts.prefix, lockMs: this.opts.lockMs });
    const lane = new DispatchLane(fn, worker, limit, () => this.pump());
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
    lane.stopTimer();
    this.stalls.forget(fn);
    await Promise.all(lane.runs);
    await lane.worker.close().catch(() => undefined);
  }

  /** Takes no more jobs, waits for those running (their locks renewed meanwhile), then lets go of Redis. */
  async close(): Promise<void> {
    this.closed = true;
    this.tasks.closing();
    clearTimeout(this.roomTimer);
    for (const lane of this.lanes.values()) lane.stopTimer();
    // A fetch under way may still hand out a job: wait for it before counting what runs.
    await this.pumped;
    await Promise.all([...this.lanes.values()].flatMap((lane) => [...lane.runs]));
    this.tasks.close();
    await this.stalls.close();
    // The subscriber's owner quits it (unsubscribing from a connection on its way out fails with EPIPE).
    const { subscriber } = this.opts;
    subscriber.off('message', this.onMessage);
    subscriber.off('ready', this.onReconnect);
    // Other nodes stop waiting on containers that are about to go.
    if (this.opts.connection.status === 'ready') await this.directory.leave();
    await Promise.all([...this.lanes.values()].map((lane) => lane.worker.close().catch(() => undefined)));
    this.lanes.clear();
  }

  private heard(channel: string, message: string): void {
    if (channel === this.directory.channel) {
      this.directory.heard(message);
      return;
    }
    if (channel !== wakeChannel(this.opts.prefix)) return;
    const lane = this.lanes.get(message);
    if (!lane || lane.ready) return;
    lane.readyAt(this.placement.at(lane.fn, Date.now()));
  }

  private wakeAll(): void {
    for (const lane of this.lanes.values()) lane.probeSoon();
    this.pump();
  }

  private async sweep(): Promise<void> {
    for (const fn of await this.signal.dueNow()) {
      const lane = this.lanes.get(fn);
      if (lane) lane.probeSoon();
    }
    this.pump();
  }

  /**
   * The lane may fetch: below its limit counting what the pool runs of the function here. A lane
   * held back only by runs that bypassed it (HTTP requests served directly) is looked at again
   * shortly: nothing else says when those end, and its job may wait for this node alone.
   */
  private canTake(lane: DispatchLane): boolean {
    if (!lane.canTake()) return false;
    if (lane.canTake(this.warmth.current().inFlight.get(lane.fn) ?? 0)) return true;
    if (!this.roomTimer && !this.closed) {
      this.roomTimer = setTimeout(() => {
        this.roomTimer = undefined;
        this.warmth.invalidate();
        this.pump();
      }, ROOM_RECHECK_MS);
      this.roomTimer.unref();
    }
    return false;
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
        const idle = this.warmth.current().idle;
        const order = passOrder([...this.lanes.keys()], ready, this.cursor, (fn) => idle.has(fn));
        this.cursor = order[0];
        for (const fn of order) {
          const lane = this.lanes.get(fn);
          if (lane && this.canTake(lane) && !this.closed) await this.fetch(lane);
        }
      }
    } while (this.pumpAgain);
  }

  private async fetch(lane: DispatchLane): Promise<void> {
    const token = `${this.instance}:${this.seq++}`;
    try {
      if (lane.probe) {
        lane.probe = false;
        const due = await this.signal.settle(lane.fn);
        const now = Date.now();
        if (due === 0 || due > now) {
          lane.ready = false;
          if (due > 0) lane.readyAt(due);
          return;
        }
      }
      if (await this.placement.leaveToWarmNode(lane)) return;
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
      if (due === -1) lane.readyAt(Date.now() + 100, true);
      else if (due > 0) lane.readyAt(due);
    } catch (err) {
      lane.ready = false;
      this.opts.onError(`fetching from ${lane.fn} failed`, err as Error);
      lane.readyAt(Date.now() + RETRY_MS, true);
    }
  }

  /** Runs the job, and the next ones of its function fetched as each finishes, in one slot. */
  private run(lane: DispatchLane, first: InvocationBullJob, token: string): void {
    lane.inFlight++;
    const slot = (async () => {
      let job: InvocationBullJob | undefined = first;
      while (job) job = await runJob(this.runDeps, lane, job, token);
    })()
      .catch((err: Error) => this.opts.onError(`running a job of ${lane.fn} failed`, err))
      .finally(() => {
        lane.inFlight--;
        lane.runs.delete(slot);
        this.warmthChanged();
        this.pump();
      });
    lane.runs.add(slot);
  }

  private async renewLocks(): Promise<void> {
    for (const { fn, jobIds } of await this.held.renew(this.opts.lockMs)) {
      this.opts.onError(`lost the lock of ${jobIds.length} job(s) of ${fn}`, new Error(jobIds.join(', ')));
    }
  }
}
