/**
 * What failed or killed writers leave in a store, and reclaiming it.
 *
 * - Temp files: `ingest/<ms>-<pid>-<rand>.<ext>` (blobs being staged: pull manifests, `load`,
 *   `import`) and `<file>.tmp-<pid>-<rand>` beside files written atomically (index.json, sidecars).
 *   One whose writer is gone (dead pid, or a pid now held by a process started after the file was
 *   last written) is garbage. {@link sweepOnce} removes them the first time a process writes to a
 *   store (a few directory reads, never of `blobs/`); `image prune` removes them everywhere.
 * - Partial downloads `ingest/partial/<hex>` are kept for resume (a killed pull continues where
 *   it stopped). `image prune` removes those no live pull holds: neither a live claim lock
 *   (`<hex>.lock`) nor a live owner mark (`<hex>.owner`, left by the pull that last wrote it until
 *   its commit renames the file into `blobs/`).
 * - Stale lock files of dead owners are removed as well (they would be broken on use anyway).
 */
import { readdirSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { StoreLayout } from './layout.js';
import { breakIfStale, lockHeld, lockOwner, withLock } from './lock.js';
import { formatRecord, ownRecord, recordState, writerGone } from './process-id.js';

const INGEST_TEMP = /^\d+-(\d+)-[0-9a-f]+\.[A-Za-z0-9.-]+$/;
const ATOMIC_TEMP = /\.tmp-(\d+)-[0-9a-f]+$/;
const PARTIAL = /^[0-9a-f]{64}$/;

/** Bytes and files of one kind of leftover. */
export interface Tally {
  count: number;
  bytes: number;
}

/** What {@link leftoverStats} finds. */
export interface LeftoverStats {
  /** Partial downloads (resumable; `image prune` removes those no live pull holds). */
  partials: Tally;
  /** Temp files, of live writers or not. */
  temps: Tally;
}

/** The folder of partial downloads. */
export function partialDir(layout: StoreLayout): string {
  return join(layout.ingestDir, 'partial');
}

/** Folders that may hold temp files; `deep` adds the per-blob sidecar folders (one entry per blob). */
function tempDirs(layout: StoreLayout, deep: boolean): string[] {
  const dirs = [layout.root, layout.ingestDir, partialDir(layout), join(layout.root, 'uploads'), join(layout.root, 'cache')];
  if (deep) dirs.push(join(layout.root, 'sources'), join(layout.root, 'cache', 'layers'));
  return dirs;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function sizeOf(path: string): { size: number; mtimeMs: number; file: boolean } | undefined {
  try {
    const st = statSync(path);
    return { size: st.size, mtimeMs: st.mtimeMs, file: st.isFile() };
  } catch {
    return undefined;
  }
}

function unlink(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The pid in a temp file's name, or undefined when the name is not a temp file's. */
function tempWriter(name: string): number | undefined {
  const m = INGEST_TEMP.exec(name) ?? ATOMIC_TEMP.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Removes temp files of gone writers and stale locks in `dirs`; returns what it removed. */
function sweepDirs(layout: StoreLayout, dirs: string[]): Tally {
  const out: Tally = { count: 0, bytes: 0 };
  const partials = partialDir(layout);
  for (const dir of dirs) {
    for (const name of list(dir)) {
      const path = join(dir, name);
      const pid = tempWriter(name);
      if (pid !== undefined) {
        const st = sizeOf(path);
        if (st?.file && writerGone(pid, st.mtimeMs) && unlink(path)) {
          out.count++;
          out.bytes += st.size;
        }
        continue;
      }
      // The store lock itself is left to the next writer, which breaks it if stale.
      if (dir !== layout.root && (name.endsWith('.lock') || name.endsWith('.lock.break'))) {
        breakIfStale(path);
        continue;
      }
      if (dir === partials && name.endsWith('.owner')) {
        const hex = name.slice(0, -'.owner'.length);
        // The pull that wrote it has committed (the partial is gone) or is gone itself.
        if (sizeOf(join(dir, hex)) === undefined && !lockHeld(join(dir, `${hex}.lock`))) unlink(path);
      }
    }
  }
  return out;
}

const swept = new Set<string>();

/**
 * Removes temp files of dead writers and stale locks, once per process and store: called when a
 * process first writes to the store (an `update`, a staged blob, a claimed download). Never
 * throws: a store it cannot clean is still usable.
 */
export function sweepOnce(layout: StoreLayout): void {
  if (swept.has(layout.root)) return;
  swept.add(layout.root);
  try {
    sweepDirs(layout, tempDirs(layout, false));
  } catch {
    // Best effort.
  }
}

/** Counts partial downloads and temp files (for `info`). */
export function leftoverStats(layout: StoreLayout): LeftoverStats {
  const stats: LeftoverStats = { partials: { count: 0, bytes: 0 }, temps: { count: 0, bytes: 0 } };
  const partials = partialDir(layout);
  for (const dir of tempDirs(layout, true)) {
    for (const name of list(dir)) {
      const tally = tempWriter(name) !== undefined ? stats.temps : dir === partials && PARTIAL.test(name) ? stats.partials : undefined;
      if (!tally) continue;
      const st = sizeOf(join(dir, name));
      if (!st?.file) continue;
      tally.count++;
      tally.bytes += st.size;
    }
  }
  return stats;
}

/** Whether a live pull holds partial download `hex` (its claim lock, or its mark until it commits). */
function partialInUse(dir: string, hex: string): boolean {
  if (lockHeld(join(dir, `${hex}.lock`))) return true;
  const owner = lockOwner(join(dir, `${hex}.owner`));
  return !!owner && recordState(owner) !== 'dead';
}

/**
 * Removes every temp file of a gone writer (sidecar folders included) and every partial download
 * no live pull holds; returns what it removed. Each partial is removed under its claim lock, so
 * a pull starting meanwhile waits and then starts that blob afresh.
 */
export async function reclaimLeftovers(layout: StoreLayout): Promise<Tally> {
  const out = sweepDirs(layout, tempDirs(layout, true));
  const dir = partialDir(layout);
  for (const hex of list(dir).filter((n) => PARTIAL.test(n))) {
    if (partialInUse(dir, hex)) continue;
    try {
      await withLock(join(dir, `${hex}.lock`), async () => {
        const owner = lockOwner(join(dir, `${hex}.owner`));
        if (owner && recordState(owner) !== 'dead') return;
        const st = sizeOf(join(dir, hex));
        if (st && unlink(join(dir, hex))) {
          out.count++;
          out.bytes += st.size;
        }
        unlink(join(dir, `${hex}.owner`));
      }, { timeoutMs: 0 });
    } catch {
      // Claimed by a live pull just now: it stays.
    }
  }
  return out;
}

/** Removes the owner mark of partial download `path` (its commit moved it into `blobs/`). */
export function clearPartialOwner(path: string): void {
  unlink(`${path}.owner`);
}

/**
 * Marks partial download `path` as written by this process (`<path>.owner`, a symlink holding the
 * owner record: no data block needed on a full disk). Called under the partial's claim lock.
 */
export function markPartialOwner(path: string): void {
  const mark = `${path}.owner`;
  unlink(mark);
  try {
    symlinkSync(formatRecord(ownRecord()), mark);
  } catch {
    // A hint only: without it, `image prune` trusts the claim lock alone.
  }
}
