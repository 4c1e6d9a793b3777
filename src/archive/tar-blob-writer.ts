/**
 * Streams content-addressed blobs into a tar (`blobs/sha256/<hex>`) as they come, one entry at a
 * time: concurrent writers wait in a queue, each blob is hashed on its way into its entry (whose
 * size the descriptor gives) and checked at its end, and a few small files close the tar. A
 * tar cannot take an entry back: the first failure fails the whole archive, so it must be
 * written to a temp file (atomic-file.ts) that only a finished archive replaces the target with.
 */
import type { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { DigestMismatchError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf, hexOf, verifiedChunks } from '../image/digest.js';

/** Every entry's mtime: archives of the same content are the same bytes. */
export const MTIME = new Date(0);

/** A file that closes the tar (index.json, manifest.json, oci-layout...). */
export interface TarFileEntry {
  name: string;
  data: string | Buffer;
}

/** Waits until a tar entry accepts more data, or fails when it is gone. */
function drained(sink: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A destroyed entry (the output failed) never drains: its 'close' has been emitted already.
    if (isGone(sink)) return reject(new Error('the archive being written was closed'));
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      sink.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the archive being written was closed'));
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', done);
  });
}

/** True once a tar-stream (streamx) stream is destroyed or being destroyed. */
function isGone(s: unknown): boolean {
  const x = s as { destroyed?: boolean; destroying?: boolean };
  return x.destroyed === true || x.destroying === true;
}

/** Writes a tar of blobs to `out`; see the file comment. */
export class TarBlobWriter {
  private readonly tar = pack();
  private readonly done: Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  /** Blobs written whole, or being written (their entry's promise). */
  private readonly blobs = new Map<Digest, Promise<void>>();
  private readonly complete = new Set<Digest>();

  /** Starts the tar with the `dirs` directory entries (docker's `blobs`, `blobs/sha256`). */
  constructor(out: Writable, dirs: string[] = ['blobs', 'blobs/sha256']) {
    this.done = pipeline(this.tar, out);
    // When the output fails mid-blob that blob's write rejects first; this failure is the same one.
    this.done.catch((err: unknown) => {
      this.failure ??= err as Error;
    });
    for (const name of dirs) this.tar.entry({ name, type: 'directory', mode: 0o755, mtime: MTIME });
  }

  /** True when the blob is in the archive, whole. */
  has(digest: Digest): boolean {
    return this.complete.has(digest);
  }

  /**
   * Streams a blob into its entry once its turn comes (`open` is called then, not before);
   * `exists` when the archive holds it (or is writing it) already. Rejects, and fails the
   * archive, when the bytes are not what `d` says.
   */
  async blob(d: Descriptor, open: () => Promise<Readable>, progress: (done: number) => void = () => undefined): Promise<'transferred' | 'exists'> {
    const earlier = this.blobs.get(d.digest);
    if (earlier) {
      await earlier;
      return 'exists';
    }
    const p = this.turn(() => this.stream(d, open, progress));
    this.blobs.set(d.digest, p);
    await p;
    this.complete.add(d.digest);
    return 'transferred';
  }

  /** A small blob from memory (a manifest), checked against `d`. */
  async bytes(d: Descriptor, data: Buffer): Promise<'transferred' | 'exists'> {
    if (data.length !== d.size || digestOf(data) !== d.digest) throw new DigestMismatchError(`manifest ${d.digest}: its bytes do not match the descriptor`);
    return this.blob(d, async () => Readable.from([data]));
  }

  /** Writes `files` after every blob, closes the tar and waits until `out` has all of it. */
  async finish(files: TarFileEntry[]): Promise<void> {
    await this.turn(async () => {
      for (const f of files) {
        await new Promise<void>((resolve, reject) => {
          this.tar.entry({ name: f.name, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, f.data, (err) => (err ? reject(err) : resolve()));
        });
      }
      this.tar.finalize();
    });
    await this.done;
  }

  /** Stops writing (the output is left incomplete: discard it). */
  abort(err: Error = new Error('the archive was abandoned')): void {
    this.failure ??= err;
    if (!this.tar.destroyed) this.tar.destroy(err);
  }

  /** Why the tar was destroyed: the output's error (the pipeline rejects with it), else `fallback`. */
  private async outputError(fallback: Error = new Error('the archive being written was closed')): Promise<Error> {
    const err = await Promise.race([this.done.then(() => undefined, (e: unknown) => e as Error), new Promise<undefined>((r) => setImmediate(r, undefined))]);
    return this.failure ?? err ?? fallback;
  }

  /** Runs `job` after every earlier one; refuses once the archive has failed. */
  private turn<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      // The first failure as it was (a write error keeps its errno code for the caller's message).
      if (this.failure) throw this.failure;
      if (isGone(this.tar)) throw await this.outputError();
      try {
        return await job();
      } catch (err) {
        // The output failing destroys the tar and every entry: what failed is the output, not the entry.
        const cause = isGone(this.tar) && !this.failure ? await this.outputError(err as Error) : (err as Error);
        this.abort(cause);
        throw this.failure ?? cause;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async stream(d: Descriptor, open: () => Promise<Readable>, progress: (done: number) => void): Promise<void> {
    const src = await open();
    let sink!: Writable;
    const entryDone = new Promise<void>((res, rej) => {
      sink = this.tar.entry({ name: `blobs/sha256/${hexOf(d.digest)}`, size: d.size, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, (err) => (err ? rej(err) : res())) as unknown as Writable;
    });
    entryDone.catch(() => undefined);
    // Destroying the entry (below) makes it emit the error too: the pack's failure reports it.
    sink.on('error', () => undefined);
    try {
      for await (const chunk of verifiedChunks(src as AsyncIterable<Buffer>, d, `blob ${d.digest}`, progress)) {
        if (!sink.write(chunk)) await drained(sink);
      }
      sink.end();
      await entryDone;
    } catch (err) {
      src.destroy();
      sink.destroy(err as Error);
      throw err;
    }
  }
}
