/** The local image store: an OCI image layout with names in `index.json` (DESIGN 3). */
import { ConflictError, NotFoundError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { hexOf } from '../image/digest.js';
import { parseDockerRef } from '../reference/index.js';
import { BlobStore, diskError } from './blobs.js';
import { collect } from './gc.js';
import type { OciIndex } from './index-file.js';
import { entryName, readIndexFile, writeIndexFile } from './index-file.js';
import type { ImageRecord, StoredImage } from './images.js';
import { ImageReader, groupByDigest, newestFirst, usable } from './images.js';
import { StoreLayout, ensureLayout } from './layout.js';
import type { LeftoverStats, Tally } from './leftovers.js';
import { leftoverStats, reclaimLeftovers, sweepOnce } from './leftovers.js';
import { withLock } from './lock.js';
import type { ImageSummary } from './summaries.js';
import { SummaryCache, summaryOf } from './summaries.js';

/** How an image argument was found, damaged images included (for `rmi`). */
export interface StoredLookup {
  record: StoredImage;
  /** The full reference when found by name (`docker.io/library/apa000ex22:latest`). */
  name?: string;
  /** True when given as an image ID, ID prefix or digest: docker's "by ID" rules apply. */
  byId: boolean;
}

/** How an image argument was found. */
export interface Lookup {
  record: ImageRecord;
  /** The full reference when found by name (`docker.io/library/apa000ex22:latest`). */
  name?: string;
  /** True when given as an image ID, ID prefix or digest: docker's "by ID" rules apply. */
  byId: boolean;
}

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,63})$/;

/** An opened store. Readers need no lock; every change goes through `update`. */
export class Store {
  /** The store's paths. */
  readonly layout: StoreLayout;
  /** Its blobs. */
  readonly blobs: BlobStore;

  private constructor(readonly root: string) {
    this.layout = new StoreLayout(root);
    this.blobs = new BlobStore(this.layout);
  }

  /** Opens the store at `root`, creating an empty layout when there is none. */
  static async open(root: string): Promise<Store> {
    const store = new Store(root);
    await ensureLayout(store.layout);
    return store;
  }

  /** The current `index.json`. */
  readIndex(): Promise<OciIndex> {
    return readIndexFile(this.layout.index);
  }

  /**
   * Runs `fn` on the index under the store lock and writes the index back if `fn` changed
   * it. Concurrent processes serialize here, so no name is ever lost.
   */
  async update<T>(fn: (index: OciIndex, tx: Transaction) => T | Promise<T>): Promise<T> {
    this.sweep();
    return withLock(this.layout.lock, async () => {
      const index = await this.readIndex();
      const before = JSON.stringify(index.manifests);
      const tx = new Transaction();
      const result = await fn(index, tx);
      if (JSON.stringify(index.manifests) !== before) {
        await writeIndexFile(this.layout.index, index).catch((err: unknown) => {
          throw diskError(err, this.root);
        });
      }
      // Blobs go only after the new index is on disk: a crash in between leaves garbage, never a dangling name.
      if (tx.garbage.size > 0 || tx.collectAll) {
        tx.freed = await collect(this.blobs, index, tx.collectAll ? 'all' : tx.garbage);
      }
      return result;
    });
  }

  /**
   * Removes temp files of dead writers and stale locks (leftovers.ts). Done once per process,
   * when it first writes (`update`, a staged blob, a claimed download); cheap, never throws.
   */
  sweep(): void {
    sweepOnce(this.layout);
  }

  /** Removes every leftover of a failed writer: stale temp files and partial downloads no live pull holds. */
  reclaim(): Promise<Tally> {
    return reclaimLeftovers(this.layout);
  }

  /** Partial downloads and temp files on disk (for `info`). */
  leftovers(): LeftoverStats {
    return leftoverStats(this.layout);
  }

  /** Every image that can be read, newest first; damaged ones are left out (see {@link storedImages}). */
  async images(index?: OciIndex): Promise<ImageRecord[]> {
    return (await this.storedImages(index)).filter((r): r is ImageRecord => r.damaged === undefined);
  }

  /** Every image, damaged ones included (listed, counted and removable, never read), newest first. */
  async storedImages(index?: OciIndex): Promise<StoredImage[]> {
    const list = await new ImageReader(this.blobs).allStored(index ?? (await this.readIndex()));
    const damaged = list.filter((r) => r.damaged !== undefined);
    if (damaged.length > 0) {
      // `images` reads the summaries sidecar: it must not go on listing these as sound.
      // Loaded with the current stamp: written back only if an entry is actually dropped.
      const cache = new SummaryCache(this.layout).load(this.blobs.stamp());
      for (const r of damaged) cache.forget(r.descriptor.digest);
      await cache.save(new Set((index ?? (await this.readIndex())).manifests.map((d) => d.digest)));
    }
    return list;
  }

  /**
   * Every image as `images` lists it, in the order of {@link images}, read from the summaries
   * sidecar where it can be (summaries.ts) and resolved otherwise.
   */
  async summaries(index?: OciIndex): Promise<ImageSummary[]> {
    const idx = index ?? (await this.readIndex());
    const cache = new SummaryCache(this.layout).load(this.blobs.stamp());
    const reader = new ImageReader(this.blobs);
    const list = await Promise.all(groupByDigest(idx).map(async ({ d, names }) => {
      const known = cache.get(d, names);
      if (known) return known;
      const record = await reader.resolveStored(d);
      cache.put(record);
      return summaryOf({ ...record, names });
    }));
    await cache.save(new Set(idx.manifests.map((d) => d.digest)));
    return list.sort(newestFirst);
  }

  /** Resolves one root descriptor to its image record (names empty), or its damaged record. */
  async image(d: Descriptor): Promise<StoredImage> {
    return new ImageReader(this.blobs).resolveStored(d);
  }

  /**
   * Finds an image as docker does: a full ID, then a name (`latest` when no tag), then a
   * unique ID prefix. Throws docker's `No such image` or an ambiguity error, and for a damaged
   * image a {@link DamagedImageError} naming it and what is wrong.
   */
  async find(arg: string, index?: OciIndex): Promise<Lookup> {
    const found = await this.findStored(arg, index);
    return { ...found, record: usable(found.record, found.name) };
  }

  /** {@link find}, returning a damaged image's record instead of throwing (for removing it). */
  async findStored(arg: string, index?: OciIndex): Promise<StoredLookup> {
    const idx = index ?? (await this.readIndex());
    // Resolved only when the argument needs every image (an ID, a digest, an ID prefix).
    let all: StoredImage[] | undefined;
    const records = async (): Promise<StoredImage[]> => (all ??= await this.storedImages(idx));
    const full = FULL_ID.exec(arg);
    if (full) {
      const record = (await records()).find((r) => hexOf(r.id) === full[1] || hexOf(r.descriptor.digest) === full[1]);
      if (!record) throw new NotFoundError(`No such image: ${arg}`);
      return { record, byId: true };
    }
    let parseError: unknown;
    try {
      const ref = parseDockerRef(arg);
      if (ref.digest) {
        // The image whose root is that digest; else the one holding it as a present platform (an
        // index image found by one of its platform manifests, as docker 29 finds it).
        const list = await records();
        const record = list.find((r) => r.descriptor.digest === ref.digest)
          ?? list.find((r) => r.manifestDescriptor.digest === ref.digest || (r.damaged === undefined && r.platforms.some((p) => p.present && p.descriptor.digest === ref.digest)));
        if (record) return { record, byId: true };
      } else {
        // A name is one index entry: resolve just the image it points at, not the whole store.
        const named = idx.manifests.find((d) => entryName(d) === ref.full);
        if (named) return { record: await this.named(idx, named.digest), name: ref.full, byId: false };
      }
      const prefix = ID_PREFIX.exec(arg);
      if (!prefix) throw new NotFoundError(`No such image: ${ref.familiar}`);
    } catch (err) {
      if (err instanceof NotFoundError) throw err;
      parseError = err;
    }
    const prefix = ID_PREFIX.exec(arg);
    if (!prefix) throw parseError;
    const hex = prefix[1]!;
    const matches = [...new Map((await records()).filter((r) => hexOf(r.id).startsWith(hex)).map((r) => [r.id, r])).values()];
    if (matches.length > 1) throw new ConflictError(`multiple IDs found with provided prefix: ${arg}`);
    const [record] = matches;
    if (!record) {
      throw new NotFoundError(`No such image: ${parseError === undefined ? parseDockerRef(arg).familiar : arg}`);
    }
    return { record, byId: true };
  }

  /** The record of the image `digest` with every name the index gives it (as `images` groups them). */
  private async named(index: OciIndex, digest: Digest): Promise<StoredImage> {
    const entries = index.manifests.filter((d) => d.digest === digest);
    const names = entries.map(entryName).filter((n): n is string => n !== undefined).sort();
    return { ...(await this.image(entries[0]!)), names };
  }
}

/** What an `update` asks to be done once the new index is written. */
export class Transaction {
  /** Blobs to delete if the new index no longer reaches them. */
  readonly garbage = new Set<Digest>();
  /** Collect every unreachable blob (`image prune`). */
  collectAll = false;
  /** Bytes freed by the collection, set after the index is written. */
  freed = 0;

  /** Marks blobs as candidates for collection. */
  collect(candidates: Iterable<Digest>): void {
    for (const d of candidates) this.garbage.add(d);
  }
}
