// @ts-check
/**
 * The spawner process: a small node process that forks and execs the long-lived `runc run`s for
 * Hearth and hands each one's stdout, stderr and fd 3 back over its IPC channel. Forking from
 * Hearth itself (a ~140 MB process with hundreds of mappings) blocked Hearth's event loop 4–6 ms
 * per container start; forking from this one costs ~1 ms, off Hearth's loop.
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

process.on('message', (/** @type {any} */ m) => {
  if (m.type === 'spawn') start(m);
  else if (m.type === 'kill') children.get(m.id)?.kill(m.signal);
});
process.on('disconnect', () => process.exit(0));
