/** `load`: bring the images of a docker-archive or OCI archive into the store, all or nothing. */
import type { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import type { ParsedArchive } from '../archive/read-image-archive.js';
import { readImageArchive } from '../archive/read-image-archive.js';
import { InvalidContentError, NotFoundError } from '../errors.js';
import type { Descriptor, Platform } from '../image/descriptor.js';
import { parseConfig, parseManifest } from '../image/manifest.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import type { StagedBlob } from '../store/blobs.js';
import { stageTar } from '../archive/tar-staging.js';
import type { Digest } from '../image/digest.js';
import { entryName } from '../store/index-file.js';
import { StoreDestination } from '../store/endpoint.js';
import { StagedSource } from '../archive/staged-source.js';
import { copyImages } from '../copy/copy.js';
import { LayerInfoStore } from '../store/layer-info.js';
import type { Store } from '../store/store.js';
import { familiarOf } from './names.js';

/** What `load` reports, in order. */
export type LoadEvent =
  | { loaded: string }
  | { loadedId: Digest }
  | { renamed: { name: string; oldId: Digest } };

/**
 * Stages and verifies the whole archive first (tar-staging.ts, read-image-archive.ts); then the
 * copy pipeline names its images in the store, taking the staged files as they are (no second
 * write), in one locked update. A bad archive leaves the store byte-for-byte as it was.
 */
export async function load(store: Store, input: Readable, opts: { platforms?: Platform[] | undefined } = {}): Promise<LoadEvent[]> {
  const staged = await stageTar(input, store.blobs);
  let parsed: Awaited<ReturnType<typeof readImageArchive>> | undefined;
  try {
    parsed = await readImageArchive(staged, store.blobs);
    const { images, layers } = parsed;
    const blobs = opts.platforms?.length ? await somePlatforms(parsed, opts.platforms) : parsed.blobs;
    // What the names pointed at before, for docker's "renaming the old one" lines.
    const before = await store.readIndex();
    await copyImages(new StagedSource(blobs), new StoreDestination(store), images.map((i) => ({ root: i.root, names: i.names })), { concurrency: 4 });
    const events: LoadEvent[] = [];
    for (const img of images) {
      const id = (await store.image(img.root)).id;
      for (const name of img.names) {
        const old = before.manifests.find((d) => entryName(d) === name);
        if (old && old.digest !== img.root.digest) {
          const oldId = (await store.image(old)).id;
          if (oldId !== id) events.push({ renamed: { name: familiarOf(name), oldId } });
        }
        events.push({ loaded: familiarOf(name) });
      }
      if (img.names.length === 0) events.push({ loadedId: id });
    }
    // The layers' uncompressed digests and sizes, measured while checking them (a hint; see layer-info.ts).
    const info = new LayerInfoStore(store.layout);
    for (const [digest, l] of layers) {
      if (!blobs.has(digest)) continue;
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

/**
 * `load --platform P[,P]`: the blobs to keep of each image. An index keeps its own bytes and the
 * manifest, config and layers of each platform asked for (the name points at the index, as after
 * `pull --platform P`); a single image must be one of them. An image with none is an error naming it.
 */
async function somePlatforms(parsed: ParsedArchive, platforms: Platform[]): Promise<Map<Digest, StagedBlob>> {
  const keep = new Map<Digest, StagedBlob>();
  const wanted = platforms.map(formatPlatform).join(', ');
  const take = (d: Descriptor): StagedBlob => {
    const f = parsed.blobs.get(d.digest);
    if (!f) throw new InvalidContentError(`invalid archive: blob ${d.digest} is missing`);
    keep.set(d.digest, f);
    return f;
  };
  const read = async (d: Descriptor): Promise<ReturnType<typeof parseManifest>> => parseManifest(await readFile(take(d).path), d.mediaType);
  /** Keeps a single-platform manifest's config and layers; false (nothing kept) when it is not a platform asked for. */
  const image = async (d: Descriptor, expected: Platform | undefined): Promise<boolean> => {
    const m = parseManifest(await readFile(parsed.blobs.get(d.digest)!.path), d.mediaType);
    if (m.kind !== 'manifest') throw new InvalidContentError('invalid archive: nested indexes are not supported');
    const config = parseConfig(await readFile(parsed.blobs.get(m.manifest.config.digest)!.path));
    const actual = { os: config.os ?? '', architecture: config.architecture ?? '', ...(config.variant ? { variant: config.variant } : {}) };
    if (!platforms.some((p) => platformMatches(expected ?? actual, p))) return false;
    take(d);
    take(m.manifest.config);
    for (const l of m.manifest.layers) take(l);
    return true;
  };
  for (const img of parsed.images) {
    const label = img.names[0] ? familiarOf(img.names[0]) : img.root.digest;
    const root = await read(img.root);
    let found = false;
    if (root.kind === 'index') {
      for (const c of root.index.manifests) if (parsed.blobs.has(c.digest) && c.platform && (await image(c, c.platform))) found = true;
    } else {
      found = await image(img.root, undefined);
    }
    if (!found) throw new NotFoundError(`image ${label} has no ${wanted} platform in the archive`);
  }
  return keep;
}
