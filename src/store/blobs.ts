/**
 * Content-addressed blobs. Every write goes to a temp file in `ingest/`, is hashed while it
 * streams, is checked against the expected digest and size, and only then is renamed into
 * `blobs/sha256/`: a failed or interrupted write never leaves a wrong blob under a digest name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, StoreError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { digestOf, isDigest, verifyContent } from '../image/digest.js';
import type { StoreLayout } from './layout.js';
import { sweepOnce } from './leftovers.js';
import { DISK_FULL_CODES, errnoWords } from '../text/errno.js';

/** A blob written to a temp file and verified, not yet visible in `blobs/`. */
export interface StagedBlob {
  digest: Digest;
  size: number;
  /** Temp path in `ingest/`. */
  path: string;
}

/** What a blob is expected to be; unknown parts are computed. */
export interface Expected {
  digest?: Digest | undefined;
  size?: number | undefined;
}

/**
 * A write into the store that the disk refused, as one line naming the store (a full disk:
 * `image prune` reclaims what failed commands left); other errors are returned as they are.
 */
export function diskError(err: unknown, root: string): unknown {
  const e = err as NodeJS.ErrnoException;
  const why = DISK_FULL_CODES.has(String(e?.code)) ? errnoWords(e) : undefined;
  if (!why || !e.syscall || (err as { exitCode?: unknown }).exitCode !== undefined) return err;
  return new StoreError(`cannot write to the store at ${root}: ${why}`, { cause: err });
}

/** Reads and writes the store's blobs. */
export class BlobStore {
  constructor(private readonly layout: StoreLayout) {}

  /** Path of a blob (whether or not it exists). */
  path(d: Digest): string {
    return this.layout.blob(d);
  }

  /** The blob folder's mtime in ns (changes whenever a blob is added or removed), or undefined. */
  stamp(): string | undefined {
    try {
      return String(statSync(this.layout.blobDir, { bigint: true }).mtimeNs);
    } catch {
      return undefined;
    }
  }

  /** True when the blob is present. */
  async has(d: Digest): Promise<boolean> {
    return existsSync(this.layout.blob(d));
  }

  /** Size of a present blob, or undefined. */
  async size(d: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.layout.blob(d))).size;
    } catch {
      return undefined;
    }
  }

  /** The whole blob in memory; for manifests and configs only. */
  async read(d: Digest): Promise<Buffer> {
    try {
      // Synchronous on purpose: these blobs are a few KiB, and one readFileSync costs far less than
      // the open/fstat/read/close round trips of fs/promises through the thread pool (`images` reads
      // two per image).
      return readFileSync(this.layout.blob(d));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`blob ${d} not found in the store`);
      throw err;
    }
  }

  /** A stream of the blob's bytes. */
  open(d: Digest): Readable {
    return createReadStream(this.layout.blob(d));
  }

  /** A fresh temp path in `ingest/` (the first one of a process sweeps temp files of dead writers: leftovers.ts). */
  tempPath(suffix = 'tmp'): string {
    sweepOnce(this.layout);
    return join(this.layout.ingestDir, `${Date.now()}-${process.pid}-${randomBytes(6).toString('hex')}.${suffix}`);
  }

  /**
   * Streams `source` to a temp file, hashing it, and verifies it against `expected`. A write the
   * disk refuses fails as {@link diskError}'s one line; the source is then left as it is (not
   * destroyed with an error of its own), so the caller's reader reports that line, not a raw
   * ENOSPC or an abort (an archive being staged entry by entry, tar-staging.ts).
   */
  async stage(source: Readable | AsyncIterable<Uint8Array>, expected: Expected = {}, what = 'blob'): Promise<StagedBlob> {
    const path = this.tempPath();
    const hash = createHash('sha256');
    let size = 0;
    // Listened to from the start (the iteration below begins only after the file is open): an error
    // the source emits meanwhile is then thrown by the iteration, never an unhandled 'error' event.
    const emitter = source as Partial<Pick<Readable, 'on' | 'off'>>;
    const ignore = (): void => undefined;
    emitter.on?.('error', ignore);
    try {
      const fh = await open(path, 'wx').catch((err: unknown) => {
        throw diskError(err, this.layout.root);
      });
      try {
        const chunks = 'iterator' in source && typeof source.iterator === 'function' ? source.iterator({ destroyOnReturn: false }) : source;
        for await (const c of chunks as AsyncIterable<Uint8Array | string>) {
          const chunk = typeof c === 'string' ? Buffer.from(c) : c;
          hash.update(chunk);
          size += chunk.length;
          for (let off = 0; off < chunk.length;) {
            const { bytesWritten } = await fh.write(chunk, off, chunk.length - off).catch((err: unknown) => {
              throw diskError(err, this.layout.root);
            });
            off += bytesWritten;
          }
        }
      } finally {
        await fh.close();
      }
      const actual = { digest: `sha256:${hash.digest('hex')}` as Digest, size };
      verifyContent(expected, actual, what);
      return { ...actual, path };
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw diskError(err, this.layout.root);
    } finally {
      emitter.off?.('error', ignore);
    }
  }

  /** Stages small in-memory content (a manifest or config), written synchronously (see {@link read}). */
  async stageBytes(data: Uint8Array, expected: Expected = {}, what = 'blob'): Promise<StagedBlob> {
    const actual = { digest: digestOf(data), size: data.length };
    verifyContent(expected, actual, what);
    const path = this.tempPath();
    try {
      writeFileSync(path, data, { flag: 'wx' });
    } catch (err) {
      rmSync(path, { force: true });
      throw diskError(err, this.layout.root);
    }
    return { ...actual, path };
  }

  /** Moves a staged blob into `blobs/` (or drops it when that digest is already there). */
  async commit(staged: StagedBlob): Promise<void> {
    // Synchronous: a commit is one rename, done under the store lock for every blob of a pull.
    if (existsSync(this.layout.blob(staged.digest))) {
      rmSync(staged.path, { force: true });
      return;
    }
    renameSync(staged.path, this.layout.blob(staged.digest));
  }

  /** Removes a staged temp file. */
  async discard(staged: StagedBlob): Promise<void> {
    await unlink(staged.path).catch(() => undefined);
  }

  /** Stages and commits in one step. */
  async write(source: Readable | AsyncIterable<Uint8Array>, expected: Expected = {}, what = 'blob'): Promise<StagedBlob> {
    const staged = await this.stage(source, expected, what);
    await this.commit(staged);
    return staged;
  }

  /** Deletes a blob; missing is fine. */
  async remove(d: Digest): Promise<void> {
    await unlink(this.layout.blob(d)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every blob digest present. */
  async list(): Promise<Digest[]> {
    const names = await readdir(this.layout.blobDir).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }
}
