/** Garbage collection: which blobs the index still reaches, and removing the rest. */
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { parseManifest } from '../image/manifest.js';
import { isIndexType, isManifestType } from '../image/media-types.js';
import type { BlobStore } from './blobs.js';
import type { OciIndex } from './index-file.js';

/**
 * Every descriptor reachable from `roots` (indexes, manifests, configs, layers), each once,
 * parents before children. Index children the store does not hold (other platforms) are skipped.
 */
export async function reachableDescriptors(blobs: BlobStore, roots: Descriptor[]): Promise<Descriptor[]> {
  const seen = new Map<Digest, Descriptor>();
  const queue = [...roots];
  while (queue.length > 0) {
    const d = queue.shift()!;
    if (seen.has(d.digest)) continue;
    seen.set(d.digest, d);
    if (!isIndexType(d.mediaType) && !isManifestType(d.mediaType)) continue;
    if (!(await blobs.has(d.digest))) continue;
    const parsed = parseManifest(await blobs.read(d.digest), d.mediaType);
    if (parsed.kind === 'index') {
      for (const c of parsed.index.manifests) if (await blobs.has(c.digest)) queue.push(c);
    } else {
      queue.push(parsed.manifest.config, ...parsed.manifest.layers);
    }
  }
  return [...seen.values()];
}

/** The digests of every blob reachable from `roots`. */
export async function reachable(blobs: BlobStore, roots: Descriptor[]): Promise<Set<Digest>> {
  return new Set((await reachableDescriptors(blobs, roots)).map((d) => d.digest));
}

/**
 * Deletes the blobs among `candidates` (or all blobs when 'all') that the index no longer
 * reaches; returns the bytes freed. Callers hold the store lock.
 */
export async function collect(blobs: BlobStore, index: OciIndex, candidates: Iterable<Digest> | 'all'): Promise<number> {
  const keep = await reachable(blobs, index.manifests);
  const list = candidates === 'all' ? await blobs.list() : [...new Set(candidates)];
  let freed = 0;
  for (const d of list) {
    if (keep.has(d)) continue;
    freed += (await blobs.size(d)) ?? 0;
    await blobs.remove(d);
  }
  return freed;
}
