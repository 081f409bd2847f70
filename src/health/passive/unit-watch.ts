/**
 * Process-exit detection for exec checks with `watch_systemd_unit` (issue 7), event-driven and
 * without systemd: a unit's processes live in its cgroup, and on cgroup v2 the kernel raises an
 * inotify modify event on `<cgroup>/cgroup.events` whenever its `populated` value changes
 * (Documentation/admin-guide/cgroup-v2.rst, "cgroup.events"). No timer, no polling, no D-Bus.
 *
 * Two inotify watches per unit:
 * - the unit's `cgroup.events`: `populated 0` means its last process exited (kill -9, crash,
 *   stop);
 * - its parent directory (the slice, shared by every unit in it): the unit's cgroup removed or
 *   made again. This one is not optional. The kernel delivers cgroup.events notifications from
 *   a work queue, after the fact, and drops them once the cgroup is gone: when the cgroup is
 *   removed right after emptying (systemd prunes a dead unit's cgroup at once), the
 *   `populated 0` event is lost. Measured here: 37 of 40 events lost when rmdir followed the
 *   exit immediately. The rmdir itself is a VFS event on the parent, delivered reliably.
 *
 * Arming follows the pid watcher: after a passing run of a check watching the unit, unless
 * already armed, the watcher stats `cgroup.events`, (re)opens the watches if the file is new,
 * reads it and arms when it says `populated 1`. While armed a pass costs nothing: without an
 * event the cgroup can neither have emptied nor been replaced. An event re-reads the file and
 * fires (once per armed epoch) when it says `populated 0`, is gone, or is another file than the
 * one watched (a restart made a new cgroup; the next passing check watches that one).
 *
 * A unit whose cgroup does not exist yet (not started) is normal: nothing is armed, the
 * periodic check decides, and the first passing check after it appears arms the watch.
 *
 * Limits: the event means the cgroup emptied, not that the main process died: a main process
 * that dies while helpers linger is seen only when systemd kills the rest (KillMode=
 * control-group, the default, does so at once). A unit that empties and fills again in the
 * same cgroup before we read the file (within a millisecond or so) is missed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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
  /** The unit's cgroup directory. */
  dir: string;
  file: string;
  signal: TargetSignal;
  fsw?: FSWatcher;
  /** Inode of the cgroup.events file `fsw` watches. */
  ino?: number;
  /** The parent directory's watch, while this unit is registered with it. */
  parent?: Parent;
  refreshing: boolean;
  /** A passing check found no cgroup: warned once until it appears. */
  missingWarned: boolean;
}

/** One watch on a slice directory, shared by the watched units in it (keyed by cgroup name). */
interface Parent {
  dir: string;
  fsw: FSWatcher;
  ino: number;
  children: Map<string, Watched>;
}

export class UnitWatcher {
  readonly #units = new Map<string, Watched>();
  readonly #parents = new Map<string, Parent>();
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
      const dir = join(root, unit);
      watched = { unit, dir, file: join(dir, 'cgroup.events'), signal: new TargetSignal(`unit:${unit}`, this.#logger), refreshing: false, missingWarned: false };
      this.#units.set(unit, watched);
    }
    if (!watched) return () => undefined;
    const entry = watched;
    const unsubscribe = entry.signal.subscribe(listener);
    this.rearm(unit, false);
    return () => {
      unsubscribe();
      if (entry.signal.size > 0) return;
      entry.signal.disarm();
      this.#drop(entry);
      this.#units.delete(unit);
    };
  }

  /**
   * Re-open the watches if the unit's cgroup is new and arm them if it holds processes.
   * `afterPass`: a check watching the unit has just passed, so a missing cgroup is worth a word.
   */
  rearm(unit: string, afterPass = true): void {
    const watched = this.#units.get(unit);
    if (!watched || watched.refreshing || this.#closed) return;
    if (watched.signal.armed && watched.fsw !== undefined && watched.parent !== undefined) return;
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
    const [ino, parentIno] = await Promise.all([inodeOf(w.file), inodeOf(dirname(w.dir))]);
    // Unsubscribed (or replaced by a new subscription) meanwhile: open nothing for it.
    if (this.#closed || this.#units.get(w.unit) !== w) return;
    if (ino === undefined || parentIno === undefined) {
      this.#drop(w);
      if (afterPass && !w.missingWarned) {
        w.missingWarned = true;
        this.#logger.warn({ code: 'UNIT_WATCH_NO_CGROUP', unit: w.unit, file: w.file },
          'watch_systemd_unit: the check passes but the unit has no cgroup: wrong unit name or slice, or the host cgroup tree is not visible here; exits are seen only by the periodic checks');
      }
      return;
    }
    w.missingWarned = false;
    // Watch before reading, so a change between the two cannot be missed.
    if (w.parent === undefined || w.parent.ino !== parentIno) this.#joinParent(w, parentIno);
    if (w.fsw === undefined || w.ino !== ino) this.#watchFile(w, ino);
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

  #watchFile(w: Watched, ino: number): void {
    w.fsw?.close();
    const fsw = watch(w.file, { persistent: false }, () => this.#check(w));
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

  #joinParent(w: Watched, ino: number): void {
    this.#leaveParent(w);
    const dir = dirname(w.dir);
    let parent = this.#parents.get(dir);
    if (parent && parent.ino !== ino) {
      // The slice itself was made again (template slices come and go): the old watch is deaf.
      this.#closeParent(parent);
      parent = undefined;
    }
    if (!parent) {
      const fresh: Parent = { dir, ino, children: new Map(), fsw: watch(dir, { persistent: false }, (_event, name) => this.#onParentEvent(fresh, name)) };
      fresh.fsw.on('error', (err) => {
        this.#logger.warn({ dir, err: errorMessage(err) }, 'watch_systemd_unit: inotify watch on the slice failed; re-opened at the next passing check');
        for (const child of fresh.children.values()) child.signal.disarm();
        this.#closeParent(fresh);
      });
      this.#parents.set(dir, fresh);
      parent = fresh;
    }
    parent.children.set(basename(w.dir), w);
    w.parent = parent;
  }

  #onParentEvent(parent: Parent, name: string | Buffer | null): void {
    if (name === null) return;
    const child = parent.children.get(name.toString());
    if (child) this.#check(child);
  }

  /** An event for an armed unit: look, and fire if it is gone. */
  #check(w: Watched): void {
    if (!w.signal.armed) return;
    void this.#inspect(w).then((why) => {
      if (why !== undefined) w.signal.fire(why);
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
    this.#leaveParent(w);
  }

  #leaveParent(w: Watched): void {
    const parent = w.parent;
    w.parent = undefined;
    if (!parent) return;
    if (parent.children.get(basename(w.dir)) === w) parent.children.delete(basename(w.dir));
    if (parent.children.size === 0) this.#closeParent(parent);
  }

  #closeParent(parent: Parent): void {
    parent.fsw.close();
    if (this.#parents.get(parent.dir) === parent) this.#parents.delete(parent.dir);
    for (const child of parent.children.values()) if (child.parent === parent) child.parent = undefined;
    parent.children.clear();
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
