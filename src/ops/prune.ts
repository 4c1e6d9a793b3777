/** `image prune`: remove dangling images (`-a`: every image) and the blobs only they used. */
import type { Digest } from '../image/digest.js';
import type { Store } from '../store/store.js';
import { familiarOf } from './names.js';

/** What prune removed. */
export interface PruneResult {
  untagged: string[];
  deleted: Digest[];
  /** Bytes freed on disk, leftovers included. */
  reclaimed: number;
  /** Of which: partial downloads no live pull holds and temp files of dead writers. */
  leftovers: number;
}

/**
 * Removes what failed writers left (partial downloads no live pull holds, temp files of dead
 * processes: first, so that a full disk has room for the new index), then dangling images, or
 * with `all` every image (no container can use one here; damaged ones included), then collects
 * every blob no name reaches.
 */
export async function prune(store: Store, opts: { all?: boolean } = {}): Promise<PruneResult> {
  const result: PruneResult = { untagged: [], deleted: [], reclaimed: 0, leftovers: 0 };
  result.leftovers = (await store.reclaim()).bytes;
  const freed = await store.update(async (index, tx) => {
    const records = await store.storedImages(index);
    for (const r of records) {
      if (r.names.length > 0 && !opts.all) continue;
      result.untagged.push(...r.names.map(familiarOf));
      result.deleted.push(r.id);
    }
    const gone = new Set(records.filter((r) => opts.all || r.names.length === 0).map((r) => r.descriptor.digest));
    index.manifests = index.manifests.filter((d) => !gone.has(d.digest));
    tx.collectAll = true;
    return tx;
  });
  result.reclaimed = result.leftovers + freed.freed;
  return result;
}
