// @ts-check
/**
 * The spawner process: a small node process that forks and execs Hearth's helper processes.
 * `spawn` starts a long-lived one (each container's `runc run`) and hands its stdout, stderr and
 * fd 3 back over the IPC channel; `exec` runs a short one (runc kill/delete, mount, umount) to
 * completion and sends back its exit and output. Forking from Hearth itself (a ~140 MB process
 * with hundreds of mappings) blocked Hearth's event loop 4–6 ms per fork; forking from this one
 * costs ~1.5 ms, off Hearth's loop.
 *
 * Plain CommonJS, run as is (no build step, no TypeScript loader); `spawner.ts` is the other side
 * and owns the message shapes. It exits when Hearth disconnects, which includes Hearth dying.
 */
'use strict';
const { spawn } = require('node:child_process');

/** @type {Map<number, import('node:child_process').ChildProcess>} */
const children = new Map();

/** @param {object} message @param {import('node:net').Socket} [handle] */
function send(message, handle) {
  // Sends after a disconnect are dropped: Hearth is gone and nobody reads them.
  if (process.connected && process.send) process.send(message, handle);
}

/** @param {{ id: number, file: string, args: string[] }} m */
function start(m) {
  /** @type {import('node:child_process').ChildProcess} */
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  } catch (e) {
    send({ type: 'error', id: m.id, message: /** @type {Error} */ (e).message });
    return;
  }
  if (child.pid === undefined) {
    // e.g. ENOENT: node reports it as an 'error' event on the next tick.
    child.once('error', (e) => send({ type: 'error', id: m.id, message: e.message }));
    return;
  }
  const pipes = [child.stdio[1], child.stdio[2], child.stdio[3]];
  for (const pipe of pipes) {
    // Nothing may be read here: every byte belongs to Hearth, which gets the pipe itself. node
    // starts reading a child's pipes at once, and resumes untouched ones when the child exits;
    // stop both until the pipe has been sent (sending closes this process's copy).
    const socket = /** @type {import('node:net').Socket & { _handle?: { reading: boolean, readStop(): number } }} */ (pipe);
    if (socket._handle) {
      socket._handle.reading = false;
      socket._handle.readStop();
    }
    socket.readable = false;
  }
  children.set(m.id, child);
  child.once('error', () => {}); // a failed kill; the exit is reported regardless
  pipes.forEach((pipe, i) => send({ type: 'pipe', id: m.id, fd: i + 1 }, /** @type {import('node:net').Socket} */ (pipe)));
  send({ type: 'spawned', id: m.id, pid: child.pid });
  child.once('exit', (code, signal) => {
    children.delete(m.id);
    send({ type: 'exit', id: m.id, code, signal });
  });
}

/** Output kept per stream of a short command; the rest is counted, not kept. */
const MAX_OUTPUT = 1024 * 1024;
/** After the exit, how long to wait for the pipes to close (a grandchild may hold them open). */
const CLOSE_GRACE_MS = 500;

/**
 * Runs a short command to completion: SIGKILL after its timeout, never rejected on exit code
 * (the same contract as `runCommand` in command.ts).
 * @param {{ id: number, file: string, args: string[], timeoutMs: number }} m
 */
function exec(m) {
  /** @type {import('node:child_process').ChildProcessByStdio<null, import('node:stream').Readable, import('node:stream').Readable>} */
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    send({ type: 'error', id: m.id, message: /** @type {Error} */ (e).message });
    return;
  }
  /** @param {import('node:stream').Readable} stream */
  const collect = (stream) => {
    /** @type {Buffer[]} */
    const parts = [];
    let size = 0;
    stream.on('data', (/** @type {Buffer} */ c) => {
      if (size < MAX_OUTPUT) parts.push(c);
      size += c.length;
    });
    return () => Buffer.concat(parts).toString('utf8');
  };
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const timer = setTimeout(() => child.kill('SIGKILL'), m.timeoutMs);
  let settled = false;
  /** @param {number | null} code @param {NodeJS.Signals | null} signal */
  const finish = (code, signal) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    child.stdout.destroy();
    child.stderr.destroy();
    send({ type: 'done', id: m.id, code, signal, stdout: stdout(), stderr: stderr() });
  };
  child.once('error', (e) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    send({ type: 'error', id: m.id, message: e.message });
  });
  child.once('close', finish);
  child.once('exit', (code, signal) => setTimeout(() => finish(code, signal), CLOSE_GRACE_MS));
}

process.on('message', (/** @type {any} */ m) => {
  if (m.type === 'spawn') start(m);
  else if (m.type === 'exec') exec(m);
  else if (m.type === 'kill') children.get(m.id)?.kill(m.signal);
});
process.on('disconnect', () => process.exit(0));
