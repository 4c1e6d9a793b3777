/** `load`: bring the images of a docker-archive or OCI archive into the store, all or nothing. */
import type { Readable } from 'node:stream';
import { readImageArchive } from '../archive/read-image-archive.js';
import { stageTar } from '../archive/tar-staging.js';
import type { Digest } from '../image/digest.js';
import { entryName, setName } from '../store/index-file.js';
import { LayerInfoStore } from '../store/layer-info.js';
import type { Store } from '../store/store.js';
import { familiarOf } from './names.js';

/** What `load` reports, in order. */
export type LoadEvent =
  | { loaded: string }
  | { loadedId: Digest }
  | { renamed: { name: string; oldId: Digest } };

/**
 * Stages and verifies the whole archive first; only then, under the store lock, moves its
 * blobs into place and writes the names. A bad archive leaves the store byte-for-byte as it was.
 */
export async function load(store: Store, input: Readable): Promise<LoadEvent[]> {
  const staged = await stageTar(input, store.blobs);
  let parsed: Awaited<ReturnType<typeof readImageArchive>> | undefined;
  try {
    parsed = await readImageArchive(staged, store.blobs);
    const { images, blobs, layers } = parsed;
    const events = await store.update(async (index) => {
      for (const b of blobs.values()) await store.blobs.commit(b);
      const events: LoadEvent[] = [];
      for (const img of images) {
        const id = (await store.image(img.root)).id;
        for (const name of img.names) {
          const old = index.manifests.find((d) => entryName(d) === name);
          if (old && old.digest !== img.root.digest) {
            const oldId = (await store.image(old)).id;
            if (oldId !== id) events.push({ renamed: { name: familiarOf(name), oldId } });
          }
          setName(index, name, img.root);
          events.push({ loaded: familiarOf(name) });
        }
        if (img.names.length === 0) {
          if (!index.manifests.some((d) => d.digest === img.root.digest)) index.manifests.push(img.root);
          events.push({ loadedId: id });
        }
      }
      return events;
    });
    // The layers' uncompressed digests and sizes, measured while checking them (a hint; see layer-info.ts).
    const info = new LayerInfoStore(store.layout);
    for (const [digest, l] of layers) {
      try {
        info.set(digest, l);
      } catch {
        // Without the record the next reader measures the layer again.
      }
    }
    return events;
  } finally {
    await staged.discard();
    if (parsed) for (const b of parsed.blobs.values()) await store.blobs.discard(b);
  }
}
