/**
 * The local store as a copy endpoint. As a source it serves blobs from disk with random access.
 * As a sink it downloads into resumable partial files, verifies every blob, and only at
 * `commit` moves them into `blobs/` and writes the names, under the store lock.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DigestMismatchError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf } from '../image/digest.js';
import type { BlobOutcome, ImageSink, ImageSource } from '../image/endpoint.js';
import type { StagedBlob } from '../store/blobs.js';
import { setName } from '../store/index-file.js';
import type { BlobSource } from '../store/sidecars.js';
import { Sidecars } from '../store/sidecars.js';
import type { Store } from '../store/store.js';
import { describeNetworkError, isNetworkFailure } from '../transport/errors.js';
import { DEFAULT_RETRY, backoffMs } from '../transport/retry.js';
import { AppendFile } from './append-file.js';
import type { CopyListener } from './events.js';
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
  async blob(d: Descriptor, offset: number): Promise<{ stream: Readable; resumed: boolean }> {
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

/** Options of the store sink. */
export interface StoreSinkOptions {
  onEvent?: CopyListener | undefined;
  signal?: AbortSignal | undefined;
  /** Where the blobs come from, recorded for cross-repository mounts on later pushes. */
  origin?: BlobSource | undefined;
}

const MAX_FAILURES = 6;

/** The store as a place to pull images into. */
export class StoreSink implements ImageSink {
  private readonly staged = new Map<Digest, StagedBlob>();
  private readonly sidecars: Sidecars;
  private readonly seen: Digest[] = [];

  constructor(private readonly store: Store, private readonly opts: StoreSinkOptions = {}) {
    this.sidecars = new Sidecars(store.layout);
  }

  /** Downloads a blob into its partial file, resuming from what is there, and verifies it. */
  async blob(d: Descriptor, source: ImageSource, progress: (done: number) => void): Promise<BlobOutcome> {
    this.seen.push(d.digest);
    if (this.staged.has(d.digest) || (await this.store.blobs.has(d.digest))) return { kind: 'exists' };
    // Another pull into this store appending to the same partial file would interleave bytes: the
    // file would no longer be what either process hashed. The second waits, then finds the blob
    // in the store, or the partial file complete (verified again below).
    return this.sidecars.claimPartial(d.digest, this.opts.signal, async (waited) => {
      if (waited && (this.staged.has(d.digest) || (await this.store.blobs.has(d.digest)))) return { kind: 'exists' };
      try {
        return await this.download(d, source, progress);
      } catch (err) {
        // The other pull committed the blob (moving its partial file into blobs/) while this one
        // was reading that file.
        if (waited && (await this.store.blobs.has(d.digest))) return { kind: 'exists' };
        throw err;
      }
    });
  }

  /** Downloads into the claimed partial file, resuming from what is there, and verifies it. */
  private async download(d: Descriptor, source: ImageSource, progress: (done: number) => void): Promise<BlobOutcome> {
    const { path } = await this.sidecars.partial(d.digest);
    let failures = 0;
    for (;;) {
      let { size: offset } = await this.sidecars.partial(d.digest);
      // No partial file: another pull of this store may have just committed the blob (checked
      // after looking at the partial file, which that commit moves).
      if (offset === 0 && (await this.store.blobs.has(d.digest))) return { kind: 'exists' };
      if (offset > d.size) {
        await this.sidecars.resetPartial(path);
        offset = 0;
      }
      const hash = await hashFile(path, offset, d.size);
      try {
        let done = offset;
        if (offset < d.size) {
          const { stream, resumed } = await source.blob(d, offset, this.opts.signal);
          if (!resumed && offset > 0) {
            // The source ignored the Range request and sent the whole blob: start the file over.
            stream.destroy();
            hash.cancel();
            await this.sidecars.resetPartial(path);
            continue;
          }
          const file = new AppendFile(path);
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
        const digest = done === d.size ? await hash.finish(done) : undefined;
        if (digest !== d.digest) {
          await rm(path, { force: true });
          throw new DigestMismatchError(`filesystem layer verification failed for digest ${d.digest}`);
        }
        this.staged.set(d.digest, { digest, size: done, path });
        return { kind: 'transferred' };
      } catch (err) {
        hash.cancel();
        if (this.opts.signal?.aborted || !isNetworkFailure(err) || err instanceof DigestMismatchError || ++failures > MAX_FAILURES) throw err;
        const delayMs = backoffMs(DEFAULT_RETRY, failures);
        this.opts.onEvent?.({ type: 'retry', attempt: failures, delayMs, reason: describeNetworkError(err) });
        await sleep(delayMs, undefined, { signal: this.opts.signal });
      }
    }
  }

  /** Stages a manifest's exact bytes. */
  async manifest(d: Descriptor, bytes: Buffer): Promise<void> {
    if (this.staged.has(d.digest) || (await this.store.blobs.has(d.digest))) return;
    this.staged.set(d.digest, await this.store.blobs.stageBytes(bytes, { digest: d.digest, size: d.size }, 'manifest'));
  }

  /**
   * Moves every staged blob into the store and points `names` at `target`, in one locked
   * update. Returns true when a name changed or a blob was added (docker's "newer image").
   */
  async commit(target: Descriptor, names: string[]): Promise<boolean> {
    const changed = await this.store.update(async (index) => {
      for (const b of this.staged.values()) await this.store.blobs.commit(b);
      const before = JSON.stringify(index.manifests);
      for (const n of names) setName(index, n, target);
      if (names.length === 0 && !index.manifests.some((m) => m.digest === target.digest)) index.manifests.push(target);
      return this.staged.size > 0 || JSON.stringify(index.manifests) !== before;
    });
    if (this.opts.origin) for (const d of this.seen) await this.sidecars.addBlobSource(d, this.opts.origin).catch(() => undefined);
    this.staged.clear();
    return changed;
  }
}
