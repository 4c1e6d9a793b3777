/**
 * A cross-process lock file that a crash, a full disk or a reused pid can never wedge.
 *
 * The lock is a symbolic link whose target is the owner record `tsd1:PID:START:BOOT:TOKEN:HOST`
 * (process-id.ts), as Mercurial's and Emacs's lock files are: symlink(2) creates it with its
 * content in one step, so it never exists empty or half-written, and a short target lives in the
 * inode, so taking the lock needs no data block even on a full disk. Where symlinks are refused
 * (EPERM, ENOTSUP), the lock is an O_EXCL file holding the same text.
 *
 * A lock is stale when its owner is dead, its pid now belongs to a later process (start time
 * differs), the machine rebooted since (boot id differs), or it is an empty or unreadable file
 * older than a short grace (only an old version or a crash between create and write leaves one).
 * Old locks holding a plain pid are understood: stale when that pid is dead or started after the
 * lock was written. Two processes breaking one stale lock are serialised by a second lock,
 * `LOCK.break`, and each re-checks under it that the file is still the one it judged stale.
 */
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../errors.js';
import type { OwnerRecord } from './process-id.js';
import { describeProcess, formatRecord, ownRecord, parseRecord, recordState, writerGone } from './process-id.js';
import { errnoText } from '../text/errno.js';

export { processAlive } from './process-id.js';

/** Options for acquiring a lock. */
export interface LockOptions {
  /** Give up after this many milliseconds (default 60 s; Infinity waits as long as the owner lives). */
  timeoutMs?: number;
  /** Stops waiting (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

/** An empty or unreadable lock file younger than this may be an old version's, between create and write. */
const EMPTY_GRACE_MS = 500;
/** A `.break` lock is held for a few system calls: older than this, its holder is stuck or gone. */
const BREAK_STALE_MS = 10_000;

/** What is at a lock path. */
interface Seen {
  ino: number;
  mtimeMs: number;
  text: string;
  symlink: boolean;
}

function look(path: string): Seen | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  let text = '';
  try {
    text = st.isSymbolicLink() ? readlinkSync(path) : readFileSync(path, 'utf8');
  } catch {
    // Unreadable: judged as empty.
  }
  return { ino: st.ino, mtimeMs: st.mtimeMs, text, symlink: st.isSymbolicLink() };
}

function same(a: Seen, b: Seen | undefined): boolean {
  return !!b && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.text === b.text && a.symlink === b.symlink;
}

/** Why the lock holder is judged gone, or undefined when it (may) still run. */
function staleness(seen: Seen): string | undefined {
  const record = parseRecord(seen.text);
  if (record) return recordState(record) === 'dead' ? 'owner gone' : undefined;
  const legacy = /^\s*(\d+)\s*$/.exec(seen.text);
  if (legacy) return writerGone(Number(legacy[1]), seen.mtimeMs) ? 'owner gone' : undefined;
  return Date.now() - seen.mtimeMs > EMPTY_GRACE_MS ? 'empty' : undefined;
}

/** Who holds a lock, in words for the timeout message. */
export function describeHolder(text: string): string {
  const record = parseRecord(text);
  if (record) return recordState(record) === 'elsewhere' ? `pid ${record.pid} on another host` : describeProcess(record.pid);
  const legacy = /^\s*(\d+)\s*$/.exec(text);
  if (legacy) return describeProcess(Number(legacy[1]));
  return 'an unknown process (the lock file is empty)';
}

const NO_SYMLINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL']);
let symlinksWork = true;

/** Creates the lock holding `text`; false when something is already there. */
function create(path: string, text: string): boolean {
  if (symlinksWork) {
    try {
      symlinkSync(text, path);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!NO_SYMLINKS.has(code)) throw err;
      symlinksWork = false;
    }
  }
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, text);
  } catch (err) {
    // A full disk: leave no empty lock behind.
    closeSync(fd);
    remove(path);
    throw err;
  }
  closeSync(fd);
  return true;
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** Removes the lock at `path` only if it still holds `text` (ours). */
function release(path: string, text: string): void {
  if (look(path)?.text === text) remove(path);
}

/**
 * Removes the lock at `path` if it is still exactly what `seen` was (judged stale), under the
 * `.break` lock so that two breakers never remove a lock a third process took in between.
 * Returns true when the caller may try again at once.
 */
function breakStale(path: string, seen: Seen): boolean {
  const guard = `${path}.break`;
  const mine = formatRecord(ownRecord());
  let created: boolean;
  try {
    created = create(guard, mine);
  } catch {
    return false;
  }
  if (!created) {
    const other = look(guard);
    if (other && (staleness(other) !== undefined || Date.now() - other.mtimeMs > BREAK_STALE_MS)) {
      if (same(other, look(guard))) remove(guard);
      return true;
    }
    return false;
  }
  try {
    if (same(seen, look(path))) remove(path);
  } finally {
    release(guard, mine);
  }
  return true;
}

/** If the lock at `path` is stale, removes it (race-free) and returns true. */
export function breakIfStale(path: string): boolean {
  const seen = look(path);
  if (!seen || staleness(seen) === undefined) return false;
  return breakStale(path, seen);
}

/** The owner record of a lock, when it holds one. */
export function lockOwner(path: string): OwnerRecord | undefined {
  const seen = look(path);
  return seen ? parseRecord(seen.text) : undefined;
}

/** Whether the lock at `path` is held by a process that (may) still run. */
export function lockHeld(path: string): boolean {
  const seen = look(path);
  return !!seen && staleness(seen) === undefined;
}

function lockError(path: string, err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  const why = errnoText(e);
  return new StoreError(`cannot lock the store: ${path}: ${why}`, { cause: err });
}

/**
 * Runs `fn` while holding the lock at `path`. A stale lock (see the file comment) is broken, so a
 * crash never wedges the store; a live owner is waited for, up to `timeoutMs`.
 * `fn` learns whether it had to wait for another owner (who may have done its work meanwhile).
 */
export async function withLock<T>(path: string, fn: (waited: boolean) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let delay = 2;
  let waited = false;
  const mine = formatRecord(ownRecord());
  for (;;) {
    // Synchronous: a few small calls, each microseconds, where a trip through the thread pool per
    // call cost more than the lock itself (a pull takes one per blob; bench/README.md).
    try {
      if (create(path, mine)) break;
    } catch (err) {
      throw lockError(path, err);
    }
    const seen = look(path);
    if (!seen) continue;
    if (staleness(seen) !== undefined && breakStale(path, seen)) continue;
    if (Date.now() > deadline) {
      throw new StoreError(`timed out waiting for the store lock ${path}: held by ${describeHolder(seen.text)}`);
    }
    waited = true;
    await sleep(delay + Math.random() * delay, undefined, { signal: opts.signal });
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn(waited);
  } finally {
    release(path, mine);
  }
}
