/** A cross-process lock file (O_EXCL create), with stale-lock recovery after a crash. */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../errors.js';

/** Options for acquiring a lock. */
export interface LockOptions {
  /** Give up after this many milliseconds (default 60 s; Infinity waits as long as the owner lives). */
  timeoutMs?: number;
  /** Stops waiting (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function removeLock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (broken as stale by another process): nothing to release.
  }
}

/** Whether process `pid` exists (one owned by another user counts: signalling it is merely not allowed). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding the lock at `path`. The lock file holds the owner's pid; a lock
 * whose owner is dead (killed mid-update) is broken, so a crash never wedges the store.
 * `fn` learns whether it had to wait for another owner (who may have done its work meanwhile).
 */
export async function withLock<T>(path: string, fn: (waited: boolean) => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let delay = 2;
  let waited = false;
  for (;;) {
    // Synchronous: four small calls, each microseconds, where a trip through the thread pool per
    // call cost more than the lock itself (a pull takes one per blob; bench/README.md).
    try {
      const fd = openSync(path, 'wx');
      try { writeSync(fd, String(process.pid)); } finally { closeSync(fd); }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`cannot lock the store: ${(err as Error).message}`, { cause: err });
      }
    }
    const owner = Number.parseInt(readText(path), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !processAlive(owner)) {
      // Re-read just before breaking, to narrow the window where another process broke it first.
      if (readText(path) === String(owner)) removeLock(path);
      continue;
    }
    if (Date.now() > deadline) {
      throw new StoreError(`timed out waiting for the store lock ${path} (held by pid ${owner || 'unknown'})`);
    }
    waited = true;
    await sleep(delay + Math.random() * delay, undefined, { signal: opts.signal });
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn(waited);
  } finally {
    removeLock(path);
  }
}
