/** Public types of the container engine. The pool codes against these: keep names and shapes. */

export interface RuntimeOptions {
  /** Bundles (config.json + rootfs mount point) live in `<stateDir>/containers/<id>/`. */
  stateDir: string;
  /** Path of the runc binary; default 'runc'. */
  runc?: string;
  /** Short id unique per Hearth data dir, [a-z0-9]{1,16}: scopes the runc root and the cgroup parent. */
  instance: string;
  /** Clean-up that could not finish (a cgroup that will not go, a busy mount). Default console.warn. */
  onWarning?: (message: string) => void;
}

export interface ContainerOptions {
  /** runc container id, [A-Za-z0-9_.-]; the caller makes it unique. */
  id: string;
  /** Unpacked layer dirs, top-most first. */
  layerDirs: string[];
  /** cgroup memory limit (swap disabled); node also gets --max-old-space-size at ~75% of it. */
  memoryMb: number;
  /** Default 1 → cpu quota/period. */
  cpus?: number;
  /** Default 128. */
  pidsLimit?: number;
  /** /tmp size, default 64. */
  tmpfsMb?: number;
  /** User env for the function (process.env). */
  env: Record<string, string>;
  hostname: string;
  functionName: string;
  version: number;
  /** "none" (default): loopback only. "bridge": outbound access through NAT, see runtime/network. */
  network?: 'none' | 'bridge';
  /** Nameservers (IP addresses) for a "bridge" container's /etc/resolv.conf; default: the host's. */
  dns?: string[];
  /** Default 10000: the container must report ready within this. */
  startTimeoutMs?: number;
  /** Secret files (name → value), mounted read-only at /run/secrets in this container only. */
  secrets?: Record<string, string>;
  /**
   * What the function's code is known by (the pool's: function name and image digest): containers
   * started with the same key share a V8 code cache of its bundle, made by the first of them. It
   * must name the exact bundle bytes (V8 checks only the source's length) and only containers
   * that may run each other's code (one function). Omitted: no cache.
   */
  codeCacheKey?: string;
  /**
   * With codeCacheKey: the container only compiles the bundle (never runs it), sends its code
   * cache and reports ready (the runtime's precompile; such a container serves nothing).
   */
  codeCacheCompileOnly?: boolean;
}

export type InvokeErrorCode = 'function_error' | 'timeout' | 'out_of_memory' | 'internal' | 'image_unavailable';

export interface LogLine {
  time: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export type InvokeOutcome =
  | { ok: true; result: unknown; logs: LogLine[]; durationMs: number }
  | {
      ok: false;
      error: { code: InvokeErrorCode; message: string; stack?: string };
      logs: LogLine[];
      durationMs: number;
    };

export interface InvokeRequest {
  invocationId: string;
  event: unknown;
  /** Epoch ms. */
  deadline: number;
}

export interface ContainerExit {
  code: number | null;
  signal: string | null;
  oomKilled: boolean;
}

/** Receives an HTTP invocation's response as the agent streams it. */
export interface HttpSink {
  head(status: number, headers: [string, string][]): void;
  chunk(data: Buffer): void;
}
