/**
 * The partial file of a download, appended to with one synchronous `write` per received chunk.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * Appends every chunk to the file at `path` with a synchronous write. The chunks of a download
 * are the socket's reads (64 KiB at most): a synchronous write of that size costs microseconds,
 * where an asynchronous one costs a thread-pool round trip, and gathering them into 1 MiB
 * `writev` calls (what this replaced) made the kernel allocate large page-cache folios, which
 * cost up to 2 s of system time per GiB on a VM whose host takes freed memory back. A/B on the
 * bench (bench/README.md, item 13): 4 x 256 MiB pulls 1.24-1.32 s against 1.46-1.83 s,
 * 1 x 1 GiB and 64 x 1 MiB unchanged.
 */
export class AppendFile extends Writable {
  /** Bytes appended so far (what the file holds beyond where it started). */
  bytesWritten = 0;
  private fd: number | undefined;
  /** Whether this stream opened the file (and so closes it). */
  private readonly owned: boolean;

  /** `target`: a path to open for appending, or a descriptor opened for appending (left open). */
  constructor(private readonly target: string | number) {
    super({ highWaterMark: 0 });
    this.owned = typeof target === 'string';
  }

  override _construct(cb: (err?: Error | null) => void): void {
    try {
      this.fd = typeof this.target === 'number' ? this.target : openSync(this.target, 'a');
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      for (let at = 0; at < chunk.length;) at += writeSync(this.fd!, chunk, at, chunk.length - at);
      this.bytesWritten += chunk.length;
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.fd !== undefined && this.owned) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed: nothing to release.
      }
    }
    this.fd = undefined;
    cb(err);
  }
}
