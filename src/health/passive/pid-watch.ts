/**
 * Process-exit detection for exec checks with `watch_pid_file` (issue 7).
 *
 * Node 20 offers no pidfd (pidfd_open + poll would be the zero-cost way), so this polls
 * kill(pid, 0) for every watched pid on one shared timer every 50 ms: a syscall per pid per
 * tick, about 20 µs of CPU per tick for a hundred pids, and the timer only runs while some pid
 * is armed. Exit is noticed within 50 ms. ESRCH means gone; EPERM means alive (another user's
 * process). A zombie (exited, not yet reaped by its parent) still counts as alive; service
 * managers reap at once.
 *
 * The pid file is read when the first check subscribes and after every passing run of a check
 * watching it (the service may have restarted under a new pid); the watch arms only when the
 * pid is alive at that moment, and fires once per armed epoch.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../log/logger.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { PassiveListener } from '../checks/types.js';
import { errorCode, errorMessage } from '../checks/types.js';
import { TargetSignal } from './signal.js';

export const PID_POLL_MS = 50;

interface Watched {
  signal: TargetSignal;
  pid?: number;
  reading: boolean;
}

export class PidWatcher {
  readonly #files = new Map<string, Watched>();
  readonly #logger: Logger;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  subscribe(pidFile: string, listener: PassiveListener): () => void {
    let watched = this.#files.get(pidFile);
    if (!watched) {
      watched = { signal: new TargetSignal(`pid:${pidFile}`, this.#logger), reading: false };
      this.#files.set(pidFile, watched);
    }
    const unsubscribe = watched.signal.subscribe(listener);
    const entry = watched;
    this.rearm(pidFile);
    return () => {
      unsubscribe();
      if (entry.signal.size === 0) this.#files.delete(pidFile);
    };
  }

  /** Re-read the pid file and arm the watch if that pid is alive. */
  rearm(pidFile: string): void {
    const watched = this.#files.get(pidFile);
    if (!watched || watched.reading || this.#closed) return;
    watched.reading = true;
    readFile(pidFile, 'utf8').then(
      (text) => {
        watched.reading = false;
        const pid = Number.parseInt(text.trim(), 10);
        if (!Number.isInteger(pid) || pid <= 0) {
          this.#logger.warn({ pidFile, content: text.slice(0, 40) }, 'watch_pid_file does not hold a pid');
          return;
        }
        if (!isAlive(pid)) return;
        watched.pid = pid;
        watched.signal.arm();
        this.#ensureTimer();
      },
      (err: unknown) => {
        watched.reading = false;
        // A missing pid file while the service is down is normal; the periodic check decides.
        this.#logger.debug({ pidFile, err: errorMessage(err) }, 'watch_pid_file unreadable');
      },
    );
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#files.values()) w.signal.disarm();
    this.#files.clear();
  }

  #ensureTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => this.#poll(), PID_POLL_MS);
  }

  #poll(): void {
    this.#timer = undefined;
    let anyArmed = false;
    for (const w of this.#files.values()) {
      if (!w.signal.armed || w.pid === undefined) continue;
      if (isAlive(w.pid)) {
        anyArmed = true;
        continue;
      }
      w.signal.fire(`process ${w.pid} exited`);
    }
    if (anyArmed) this.#ensureTimer();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}
