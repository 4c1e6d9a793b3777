/**
 * The local store as a copy endpoint. As a source it serves blobs from disk with random access.
 * As a destination it downloads into resumable partial files, verifies every blob, and only at
 * `commit` moves them into `blobs/` and writes the names, under the store lock.
 */
import { closeSync, createReadStream, existsSync, fstatSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMismatchError, InvalidContentError } from '../errors.js';
import { retryingEvent } from '../image/progress.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf } from '../image/digest.js';
import type { BlobInfo, BlobRead, BlobReader, CopiedImage, ImageDestination, ImageSource } from '../image/endpoint.js';
import type { StagedBlob } from './blobs.js';
import { diskError } from './blobs.js';
import { setName } from './index-file.js';
import type { LayerInfo } from './layer-info.js';
import { LayerInfoStore } from './layer-info.js';
import { clearPartialOwner } from './leftovers.js';
import type { BlobSource } from './sidecars.js';
import { Sidecars } from './sidecars.js';
import type { Store } from './store.js';
import type { RetryPolicy } from '../transport/retry.js';
import { DEFAULT_RETRY, Retrier } from '../transport/retry.js';
import { AppendFile } from './append-file.js';
import type { CopyListener } from '../image/progress.js';
import type { DiffResult, FileHash } from './file-hash.js';
import { hashFile } from './file-hash.js';

/** Bytes per read of a blob being sent (see {@link StoreSource.open}). */
const READ_CHUNK = 256 * 1024;

/** The store as a place to read images from. */
export class StoreSource implements ImageSource {
  constructor(private readonly store: Store) {}

  /** Manifest bytes as stored. */
  async manifest(d: Descriptor): Promise<Buffer> {
    const bytes = await this.store.blobs.read(d.digest);
    if (digestOf(bytes) !== d.digest) throw new DigestMismatchError(`store blob ${d.digest} is corrupt`);
    return bytes;
  }

  /** A blob from `offset`. */
  async blob(d: Descriptor, offset: number): Promise<BlobRead> {
    return { stream: this.open(d, offset, d.size), resumed: true };
  }

  /** Bytes `start` to `end` (exclusive) of a blob. */
  open(d: Descriptor, start: number, end: number): Readable {
    if (end <= start) return Readable.from([]);
    // 256 KiB reads: every read is a new buffer, freed only when V8 collects it, and V8 collects
    // seldom when few objects are made per byte. 1 MiB reads let 4 parallel uploads hold up to
    // 50 MiB of spent buffers (peak RSS 108-120 MiB); 256 KiB ones 35 MiB (97-106 MiB), as fast.
    return createReadStream(this.store.blobs.path(d.digest), { start, end: end - 1, highWaterMark: READ_CHUNK });
  }
}

/** Options of the store destination. */
export interface StoreDestinationOptions {
  onEvent?: CopyListener | undefined;
  signal?: AbortSignal | undefined;
  /** Where the blobs come from, recorded for cross-repository mounts on later pushes. */
  origin?: BlobSource | undefined;
  /** The retry policy of the transport in use (DEFAULT_RETRY when absent). */
  retry?: RetryPolicy | undefined;
}

/** The store as a place to copy images into (pull, load, copy). */
export class StoreDestination implements ImageDestination {
  private readonly staged = new Map<Digest, StagedBlob>();
  private readonly sidecars: Sidecars;
  private readonly seen: Digest[] = [];
  private readonly layerInfo: LayerInfoStore;
  /** Uncompressed digests and sizes measured for staged layers, recorded at commit. */
  private readonly measured = new Map<Digest, LayerInfo>();

  constructor(private readonly store: Store, private readonly opts: StoreDestinationOptions = {}) {
    this.sidecars = new Sidecars(store.layout);
    this.layerInfo = new LayerInfoStore(store.layout);
  }

  /** A config (or other small blob) the store holds or has staged, verified; undefined when it has neither. */
  async readBlob(d: Descriptor): Promise<Buffer | undefined> {
    const staged = this.staged.get(d.digest);
    let bytes: Buffer | undefined;
    try {
      bytes = staged ? readFileSync(staged.path) : undefined;
    } catch {
      // Renamed into blobs/ by another pull's commit: read from there.
    }
    if (!bytes && (await this.store.blobs.has(d.digest))) bytes = await this.store.blobs.read(d.digest).catch(() => undefined);
    if (!bytes) return undefined;
    // A blob damaged on disk is not used: the source's copy is read instead.
    return bytes.length === d.size && digestOf(bytes) === d.digest ? bytes : undefined;
  }

  /** True when the store has the blob or this copy staged it (a layer also checked against the diff_id it measured). */
  async has(d: Descriptor, info: BlobInfo): Promise<boolean> {
    this.seen.push(d.digest);
    if (!(this.staged.has(d.digest) || (await this.store.blobs.has(d.digest)))) return false;
    this.existing(d, info);
    return true;
  }

  /**
   * Downloads a blob into its partial file, resuming from what is there, and verifies it; a layer
   * also against its diff_id (`info.diffId`) while it streams in.
   */
  async put(d: Descriptor, read: BlobReader, progress: (done: number) => void, info: BlobInfo): Promise<'transferred' | 'exists'> {
    if (read.stagedFile !== undefined) {
      // A temp file of this store's ingest/ that the source staged and verified (load, import):
      // taken as it is, renamed into blobs/ at commit, instead of being written a second time.
      this.staged.set(d.digest, { digest: d.digest, size: d.size, path: read.stagedFile });
      progress(d.size);
      return 'transferred';
    }
    // Another pull into this store appending to the same partial file would interleave bytes: the
    // file would no longer be what either process hashed. The second waits, then finds the blob
    // in the store, or the partial file complete (verified again below).
    return this.sidecars.claimPartial(d.digest, this.opts.signal, async (waited) => {
      if (waited && (this.staged.has(d.digest) || (await this.store.blobs.has(d.digest)))) return this.existing(d, info);
      try {
        return await this.download(d, read, progress, info);
      } catch (err) {
        // Another pull committed the blob meanwhile (whether or not this one waited for its claim:
        // its claim ends when its download does, its commit comes later). A verification failure
        // stands: the blob in the store may be right, this image's config is not.
        if (!(err instanceof DigestMismatchError || err instanceof InvalidContentError) && (await this.store.blobs.has(d.digest))) return this.existing(d, info);
        // A full disk is one line naming the store (`image prune` frees what failed pulls left).
        throw diskError(err, this.store.root);
      }
    });
  }

  /** A blob the store has (or this pull staged): checked against the diff_id expected, when the store measured one. */
  private existing(d: Descriptor, info: BlobInfo): 'exists' {
    const known = info.diffId === undefined ? undefined : (this.measured.get(d.digest) ?? this.layerInfo.get(d.digest));
    if (known && info.diffId !== undefined && known.diffId !== info.diffId) throw diffMismatch(d.digest, known.diffId, info.diffId);
    return 'exists';
  }

  /** Downloads into the claimed partial file, resuming from what is there, and verifies it. */
  private async download(d: Descriptor, read: BlobReader, progress: (done: number) => void, info: BlobInfo): Promise<'transferred' | 'exists'> {
    const { path } = await this.sidecars.partial(d.digest);
    // No partial file: another pull of this store may have just committed the blob (checked
    // after looking at the partial file, which that commit moves).
    if (!existsSync(path) && (await this.store.blobs.has(d.digest))) return this.existing(d, info);
    // Opened once, under the claim: every read (the hash) and write of this download goes through
    // this descriptor, never the path again. Another pull of this store may have staged this blob
    // complete in this very file (its claim ended with its download; its commit comes later) and
    // rename it into blobs/ while this one verifies it: a hash that opened the path after that
    // failed with ENOENT (issue 12, item 5). The descriptor reads the same bytes whatever the name.
    const fd = openSync(path, 'a+');
    const hashes: FileHash[] = [];
    try {
      return await this.downloadInto(fd, path, hashes, d, read, progress, info);
    } finally {
      // The hashing worker reads through `fd`: it is closed once no hash of it runs any more.
      await Promise.all(hashes.map((h) => h.settled));
      closeSync(fd);
    }
  }

  private async downloadInto(fd: number, path: string, hashes: FileHash[], d: Descriptor, read: BlobReader, progress: (done: number) => void, info: BlobInfo): Promise<'transferred'> {
    // The one retry policy (transport/retry.ts): network errors and stalls, not local disk errors
    // or a bad digest; statuses were retried by the transport already.
    const retrier = new Retrier(this.opts.retry ?? DEFAULT_RETRY, {
      context: { statuses: false },
      signal: this.opts.signal,
      onRetry: (e) => this.opts.onEvent?.(retryingEvent(e)),
    });
    for (;;) {
      let offset = fstatSync(fd).size;
      if (offset > d.size) {
        ftruncateSync(fd, 0);
        offset = 0;
      }
      const hash = await hashFile(fd, offset, d.size, { layer: info.layer });
      hashes.push(hash);
      try {
        let done = offset;
        if (offset < d.size) {
          const { stream, resumed } = await read(offset, this.opts.signal);
          if (!resumed && offset > 0) {
            // The source ignored the Range request and sent the whole blob: start the file over.
            stream.destroy();
            hash.cancel();
            ftruncateSync(fd, 0);
            continue;
          }
          const file = new AppendFile(fd);
          const counter = new Transform({
            transform(chunk: Buffer, _e, cb) {
              hash.chunk(chunk);
              // What earlier writes put in the file: the hashing worker may read up to there.
              hash.written(offset + file.bytesWritten);
              done += chunk.length;
              progress(done);
              if (done > d.size) return cb(new DigestMismatchError(`filesystem layer verification failed for digest ${d.digest}`));
              cb(null, chunk);
            },
          });
          await pipeline(stream, counter, file, { signal: this.opts.signal });
        }
        const result = done === d.size ? await hash.finish(done) : undefined;
        if (result?.digest !== d.digest) {
          await rm(path, { force: true });
          throw new DigestMismatchError(`filesystem layer verification failed for digest ${d.digest}`);
        }
        const measured = await this.checkDiff(d, info, result.diff, path);
        this.staged.set(d.digest, { digest: d.digest, size: done, path });
        if (measured) this.measured.set(d.digest, measured);
        return 'transferred';
      } catch (err) {
        hash.cancel();
        await retrier.failed(err, d.digest);
      }
    }
  }

  /**
   * Checks a downloaded layer's uncompressed side against the diff_id its config lists (docker
   * refuses such a pull too); a mismatch or a stream that does not decompress removes the partial
   * file. Returns what to record, or undefined when nothing could be measured (zstd, xz, bzip2).
   */
  private async checkDiff(d: Descriptor, info: BlobInfo, diff: DiffResult | undefined, path: string): Promise<LayerInfo | undefined> {
    if (!info.layer || !diff) return undefined;
    if ('error' in diff) {
      await rm(path, { force: true });
      throw new InvalidContentError(`invalid layer ${d.digest}: it does not decompress: ${diff.error}`);
    }
    if (info.diffId !== undefined && diff.diffId !== info.diffId) {
      await rm(path, { force: true });
      throw diffMismatch(d.digest, diff.diffId, info.diffId);
    }
    return diff;
  }

  /** Stages a manifest's exact bytes (names are given at commit). */
  async putManifest(d: Descriptor, bytes: Buffer): Promise<void> {
    if (this.staged.has(d.digest) || (await this.store.blobs.has(d.digest))) return;
    this.staged.set(d.digest, await this.store.blobs.stageBytes(bytes, { digest: d.digest, size: d.size }, 'manifest'));
  }

  /**
   * Moves every staged blob into the store and points each image's names (full references) at
   * its target, in one locked update. Returns true when a name changed or a blob was added
   * (docker's "newer image").
   */
  async commit(images: CopiedImage[]): Promise<boolean> {
    const changed = await this.store.update(async (index) => {
      for (const b of this.staged.values()) {
        await this.store.blobs.commit(b);
        // The partial file is a blob now: its owner mark would be a dangling link in ingest/
        // (oci-image-tool, which walks the whole layout, fails on one).
        clearPartialOwner(b.path);
      }
      const before = JSON.stringify(index.manifests);
      for (const { target, names } of images) {
        for (const n of names) setName(index, n, target);
        if (names.length === 0 && !index.manifests.some((m) => m.digest === target.digest)) index.manifests.push(target);
      }
      return this.staged.size > 0 || JSON.stringify(index.manifests) !== before;
    });
    if (this.opts.origin) for (const d of this.seen) await this.sidecars.addBlobSource(d, this.opts.origin).catch(() => undefined);
    for (const [d, info] of this.measured) {
      try {
        this.layerInfo.set(d, info);
      } catch {
        // A hint only: without it the next reader measures the layer again.
      }
    }
    this.measured.clear();
    this.staged.clear();
    return changed;
  }
}

/** docker's refusal of a layer whose uncompressed bytes are not what the image config lists. */
function diffMismatch(blob: Digest, got: Digest, expected: Digest): DigestMismatchError {
  return new DigestMismatchError(`layer diff_id mismatch for ${blob}: got ${got}, expected ${expected}`);
}
