/**
 * Process-exit detection for exec checks with `watch_systemd_unit` (issue 7), event-driven and
 * without systemd: a unit's processes live in its cgroup, and on cgroup v2 the kernel raises an
 * inotify modify event on `<cgroup>/cgroup.events` whenever its `populated` value changes
 * (Documentation/admin-guide/cgroup-v2.rst, "cgroup.events"). One fs.watch per watched unit;
 * no timer, no polling, no D-Bus.
 *
 * Arming follows the pid watcher: after a passing run of a check watching the unit, unless
 * already armed, the watcher stats `cgroup.events`, (re)opens the inotify watch if the file is
 * new, reads it and arms when it says `populated 1`. While armed a pass costs nothing. An event then re-reads the file and fires (once per armed
 * epoch) when:
 * - it says `populated 0`: the unit's last process exited (kill -9, crash, stop);
 * - it is gone, or is another file than the one watched: systemd removed the stopped unit's
 *   cgroup, and on a restart made a new one. A watch on a removed cgroup hears nothing more,
 *   so the next passing check re-opens it on the new directory.
 *
 * A unit whose cgroup does not exist yet (not started) is normal: nothing is armed, the
 * periodic check decides, and the first passing check after it appears arms the watch.
 *
 * Limits: the event means the cgroup emptied, not that the main process died: a main process
 * that dies while helpers linger is seen only when systemd kills the rest (KillMode=
 * control-group, the default, does so at once). A unit that empties and fills again before we
 * read the file (within a millisecond or so) without a new cgroup is missed; systemd removes
 * a dead unit's cgroup before restarting it, which we do see.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../log/logger.js';
import type { PassiveListener } from '../checks/types.js';
import { errorCode, errorMessage } from '../checks/types.js';
import { TargetSignal } from './signal.js';
import { findCgroup2Mount, parsePopulated } from './unit-cgroup.js';

export interface UnitWatcherOptions {
  /**
   * The cgroup v2 mount under which unit paths are resolved. Default: found in
   * /proc/self/mountinfo at the first subscription. Tests point it at a cgroup of their own.
   */
  cgroupRoot?: string;
  /** Text to read instead of /proc/self/mountinfo when cgroupRoot is not given (tests). */
  mountinfo?: string;
}

interface Watched {
  unit: string;
  file: string;
  signal: TargetSignal;
  fsw?: FSWatcher;
  /** Inode of the cgroup.events file `fsw` watches. */
  ino?: number;
  refreshing: boolean;
  /** A passing check found no cgroup: warned once until it appears. */
  missingWarned: boolean;
}

export class UnitWatcher {
  readonly #units = new Map<string, Watched>();
  readonly #logger: Logger;
  readonly #mountinfo: string | undefined;
  #root: string | undefined;
  #rootError: string | undefined;
  #closed = false;

  constructor(logger: Logger, opts: UnitWatcherOptions = {}) {
    this.#logger = logger;
    this.#root = opts.cgroupRoot;
    this.#mountinfo = opts.mountinfo;
  }

  /** Whether an exit of `unit` would fire now (tests and diagnostics). */
  armed(unit: string): boolean {
    return this.#units.get(unit)?.signal.armed ?? false;
  }

  /** `unit` is the cgroup path relative to the cgroup v2 mount, as the config loader resolved it. */
  subscribe(unit: string, listener: PassiveListener): () => void {
    const root = this.#resolveRoot(unit);
    let watched = this.#units.get(unit);
    if (!watched && root !== undefined) {
      watched = { unit, file: join(root, unit, 'cgroup.events'), signal: new TargetSignal(`unit:${unit}`, this.#logger), refreshing: false, missingWarned: false };
      this.#units.set(unit, watched);
    }
    if (!watched) return () => undefined;
    const entry = watched;
    const unsubscribe = entry.signal.subscribe(listener);
    this.rearm(unit, false);
    return () => {
      unsubscribe();
      if (entry.signal.size > 0) return;
      this.#drop(entry);
      this.#units.delete(unit);
    };
  }

  /**
   * Re-open the watch if the unit's cgroup is new and arm it if the cgroup holds processes.
   * `afterPass`: a check watching the unit has just passed, so a missing cgroup is worth a word.
   */
  rearm(unit: string, afterPass = true): void {
    const watched = this.#units.get(unit);
    if (!watched || watched.refreshing || this.#closed) return;
    // Armed means no event since the last look: the cgroup cannot have emptied or been
    // replaced (removal needs "populated 0" first), so there is nothing to stat or read.
    if (watched.signal.armed && watched.fsw !== undefined) return;
    watched.refreshing = true;
    this.#refresh(watched, afterPass).then(
      () => (watched.refreshing = false),
      (err: unknown) => {
        watched.refreshing = false;
        this.#logger.warn({ unit, err: errorMessage(err) }, 'watch_systemd_unit: cannot read the unit cgroup');
      },
    );
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#units.values()) {
      w.signal.disarm();
      this.#drop(w);
    }
    this.#units.clear();
  }

  #resolveRoot(unit: string): string | undefined {
    if (this.#root !== undefined || this.#rootError !== undefined) return this.#root;
    let mountinfo = this.#mountinfo ?? '';
    try {
      mountinfo = this.#mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
    } catch (err) {
      this.#rootError = `cannot read /proc/self/mountinfo: ${errorMessage(err)}`;
    }
    const found = findCgroup2Mount(mountinfo);
    if (found.ok) this.#root = found.dir;
    else {
      this.#rootError ??= found.message;
      // Said once, at start-up (the first check subscribing): the check still runs periodically.
      this.#logger.error({ code: 'UNIT_WATCH_NO_CGROUP2', unit },
        `watch_systemd_unit needs the cgroup v2 hierarchy: ${this.#rootError}; unit exits are seen only by the periodic checks`);
    }
    return this.#root;
  }

  async #refresh(w: Watched, afterPass: boolean): Promise<void> {
    const ino = await inodeOf(w.file);
    // Unsubscribed (or replaced by a new subscription) meanwhile: open nothing for it.
    if (this.#closed || this.#units.get(w.unit) !== w) return;
    if (ino === undefined) {
      this.#drop(w);
      if (afterPass && !w.missingWarned) {
        w.missingWarned = true;
        this.#logger.warn({ code: 'UNIT_WATCH_NO_CGROUP', unit: w.unit, file: w.file },
          'watch_systemd_unit: the check passes but the unit has no cgroup: wrong unit name or slice, or the host cgroup tree is not visible here; exits are seen only by the periodic checks');
      }
      return;
    }
    w.missingWarned = false;
    if (w.fsw === undefined || w.ino !== ino) {
      this.#drop(w);
      // Watch before reading, so a change between the two cannot be missed.
      const fsw = watch(w.file, { persistent: false }, () => this.#onEvent(w, fsw));
      fsw.on('error', (err) => {
        this.#logger.warn({ unit: w.unit, err: errorMessage(err) }, 'watch_systemd_unit: inotify watch failed; re-opened at the next passing check');
        if (w.fsw !== fsw) return;
        // Disarmed too, so the next passing check opens a new watch instead of trusting this one.
        w.signal.disarm();
        this.#drop(w);
      });
      w.fsw = fsw;
      w.ino = ino;
    }
    let text: string;
    try {
      text = await readFile(w.file, 'utf8');
    } catch (err) {
      // Removed since the stat (ENODEV when it went while open): the next passing check looks again.
      if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENODEV') throw err;
      this.#drop(w);
      return;
    }
    if (parsePopulated(text) === true && this.#units.get(w.unit) === w) w.signal.arm();
  }

  #onEvent(w: Watched, fsw: FSWatcher): void {
    if (!w.signal.armed || w.fsw !== fsw) return;
    void this.#inspect(w).then((why) => {
      if (why !== undefined && w.fsw === fsw) w.signal.fire(why);
    });
  }

  /** Why the armed unit counts as gone, or undefined while it still runs. */
  async #inspect(w: Watched): Promise<string | undefined> {
    try {
      const [ino, text] = await Promise.all([inodeOf(w.file), readFile(w.file, 'utf8')]);
      if (ino !== w.ino) return `unit ${w.unit}: cgroup re-created`;
      return parsePopulated(text) === false ? `unit ${w.unit}: no process left (cgroup.events populated 0)` : undefined;
    } catch (err) {
      // ENODEV: the file was opened just before its cgroup was removed (kernfs refuses the read).
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENODEV') return `unit ${w.unit}: cgroup removed`;
      this.#logger.warn({ unit: w.unit, err: errorMessage(err) }, 'watch_systemd_unit: cannot read cgroup.events');
      return undefined;
    }
  }

  #drop(w: Watched): void {
    w.fsw?.close();
    w.fsw = undefined;
    w.ino = undefined;
  }
}

async function inodeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).ino;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
