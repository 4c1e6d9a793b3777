/** Garbage collection: which blobs the index still reaches, and removing the rest. */
import { NotFoundError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { parseManifest } from '../image/manifest.js';
import { isIndexType, isManifestType } from '../image/media-types.js';
import type { BlobStore } from './blobs.js';
import type { OciIndex } from './index-file.js';

/** A manifest's bytes; undefined when it vanished meanwhile (any other read error stops the walk: nothing is deleted on a guess). */
async function readOrNothing(blobs: BlobStore, d: Digest): Promise<Buffer | undefined> {
  try {
    return await blobs.read(d);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** A parsed manifest or index; undefined for one that does not parse (a damaged image: it reaches nothing further). */
function parseOrNothing(bytes: Buffer | undefined, mediaType: string): ReturnType<typeof parseManifest> | undefined {
  if (!bytes) return undefined;
  try {
    return parseManifest(bytes, mediaType);
  } catch {
    return undefined;
  }
}

/**
 * Every descriptor reachable from `roots` (indexes, manifests, configs, layers), each once,
 * parents before children. Index children the store does not hold (other platforms) are skipped;
 * a manifest or index that does not parse reaches nothing further (the blobs a parsable one
 * reaches are all kept).
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
    const parsed = parseOrNothing(await readOrNothing(blobs, d.digest), d.mediaType);
    if (!parsed) continue;
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
