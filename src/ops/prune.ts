/** `image prune`: remove dangling images (`-a`: every image) and the blobs only they used. */
import type { Digest } from '../image/digest.js';
import type { Store } from '../store/store.js';
import { familiarOf } from './names.js';

/** What prune removed. */
export interface PruneResult {
  untagged: string[];
  deleted: Digest[];
  /** Bytes freed on disk. */
  reclaimed: number;
}

/**
 * Removes dangling images, or with `all` every image (no container can use one here), then
 * collects every blob no name reaches, temp files of dead writers included.
 */
export async function prune(store: Store, opts: { all?: boolean } = {}): Promise<PruneResult> {
  const result: PruneResult = { untagged: [], deleted: [], reclaimed: 0 };
  const freed = await store.update(async (index, tx) => {
    const records = await store.images(index);
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
  result.reclaimed = freed.freed;
  return result;
}
