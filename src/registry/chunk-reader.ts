/**
 * Consecutive chunks of one blob cut from ONE positioned source stream, for a chunked upload whose
 * bytes come from anywhere a {@link BlobReader} reads (a Range GET from another registry, a file
 * of the store): no temp file, no chunk held in memory. Slice after slice continues the same
 * stream; a slice at any other offset (a resync after a failure, a 416, a resumed session), or
 * after a slice that did not finish, reopens the source there.
 */
import { Readable } from 'node:stream';
import { DigestMismatchError } from '../errors.js';
import type { BlobReader } from '../image/endpoint.js';

/** One open source stream and where it stands. */
class Source {
  /** Offset of the next byte {@link next} yields (the surplus first, then the stream). */
  pos: number;
  /** Bytes already taken from the stream beyond the last slice's end: the next slice's first. */
  private surplus: Buffer | undefined;
  private readonly chunks: AsyncIterator<unknown>;

  constructor(readonly stream: Readable, pos: number) {
    this.pos = pos;
    // The iterator reads on demand (paused mode): the stream buffers at most its highWaterMark,
    // so a slow PATCH body slows the source down instead of piling its bytes up here.
    this.chunks = stream[Symbol.asyncIterator]();
    // Errors reach us through next(); one raised while no slice is pulling must not crash the process.
    stream.on('error', () => undefined);
  }

  /** The next bytes at {@link pos}, or undefined at the stream's end. */
  async next(): Promise<Buffer | undefined> {
    const held = this.surplus;
    if (held) {
      this.surplus = undefined;
      return held;
    }
    const r = await this.chunks.next();
    if (r.done) return undefined;
    const v = r.value;
    return Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v as Uint8Array);
  }

  /** Gives back the tail of the bytes {@link next} returned last (they belong to the next slice). */
  putBack(rest: Buffer): void {
    this.surplus = rest;
  }

  destroy(): void {
    this.surplus = undefined;
    this.stream.destroy();
  }
}

/** The bytes `[start, end)` of the blob, pulled from the reader's source as the consumer reads. */
class Slice extends Readable {
  /** Offset of the next byte this slice hands out. */
  cursor: number;

  constructor(private readonly reader: ChunkReader, start: number, readonly end: number) {
    super();
    this.cursor = start;
  }

  /** True once every byte of the slice was handed out. */
  get complete(): boolean {
    return this.cursor === this.end;
  }

  override _read(): void {
    // One push per call: Node calls _read again only when the consumer wants more (backpressure).
    this.pull().catch((err: unknown) => this.destroy(err as Error));
  }

  private async pull(): Promise<void> {
    if (this.complete) {
      this.push(null);
      return;
    }
    const src = await this.reader.sourceFor(this);
    for (;;) {
      const at = src.pos;
      let bytes: Buffer | undefined;
      try {
        bytes = await src.next();
      } catch (err) {
        if (this.destroyed || !this.reader.owns(this, src)) return;
        throw this.reader.failed(err);
      }
      // Given up on meanwhile (destroyed by its consumer, superseded, reader closed): the source
      // is not ours any more; touch nothing.
      if (this.destroyed || !this.reader.owns(this, src)) return;
      if (!bytes) {
        throw this.reader.failed(new DigestMismatchError(`blob source ended at byte ${at} of ${this.reader.size}`));
      }
      src.pos = at + bytes.length;
      // A source that started before the cursor (one that ignored the offset: resumed false):
      // drop what comes before, chunk by chunk, never holding it.
      if (src.pos <= this.cursor) continue;
      if (at < this.cursor) bytes = bytes.subarray(this.cursor - at);
      const want = this.end - this.cursor;
      if (bytes.length > want) {
        src.putBack(bytes.subarray(want));
        src.pos -= bytes.length - want;
        bytes = bytes.subarray(0, want);
      }
      this.cursor += bytes.length;
      this.push(bytes);
      if (this.complete) this.push(null);
      return;
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Stopped before its end (the PATCH failed, the consumer gave up): where the source stands
    // is nobody's business any more; the next slice reopens it at whatever offset it needs.
    if (!this.complete) this.reader.release(this);
    cb(err);
  }
}

/** Hands out consecutive chunks of one blob from one positioned source stream (see the module doc). */
export class ChunkReader {
  private source: Source | undefined;
  private owner: Slice | undefined;
  private closed = false;
  /** What the source raised last (a read that failed, a stream error, an early end); see {@link takeFailure}. */
  private lastFailure: unknown;

  /** `read` opens the blob at an offset; `size` is the blob's length; `signal` is passed to `read`. */
  constructor(private readonly read: BlobReader, readonly size: number, private readonly signal?: AbortSignal) {}

  /**
   * The error the source raised during the last slice, if that slice failed because of its
   * source, and forgets it (a later failure elsewhere must not be blamed on it). A request whose
   * body failed reports an error of its own (a network error of the destination), so the upload
   * judges whether to retry by this one instead: a reset source is retried, a short one is final.
   */
  takeFailure(): unknown {
    const err = this.lastFailure;
    this.lastFailure = undefined;
    return err;
  }

  /**
   * The bytes `[start, end)` as a stream that ends after exactly `end - start` bytes, taking no
   * more from the source. Synchronous, so that it can serve as a request body factory; the source
   * is opened, or continued, when the stream is first read. A new slice supersedes the last one:
   * an unfinished one is destroyed and the source reopened at `start`.
   */
  slice(start: number, end: number): Readable {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= this.size)) {
      throw new RangeError(`chunk reader: bad slice ${start}-${end} of ${this.size} bytes`);
    }
    if (this.closed) throw new Error('chunk reader: slice after close');
    this.lastFailure = undefined;
    const last = this.owner;
    // Continue the stream only where it stands exactly: the previous slice handed out all its
    // bytes and this one starts where it ended. Anything else: reopen at `start`.
    const continues = this.source !== undefined && (last === undefined || last.complete) && this.source.pos === start;
    if (!continues) this.dropSource();
    const s = new Slice(this, start, end);
    this.owner = s;
    if (last && !last.complete && !last.destroyed) abandon(last, 'chunk reader: slice superseded by a later one');
    return s;
  }

  /** Destroys the source stream (no socket or file stays open); later slices throw. */
  close(): void {
    this.closed = true;
    const last = this.owner;
    this.owner = undefined;
    this.dropSource();
    if (last && !last.complete && !last.destroyed) abandon(last, 'chunk reader closed');
  }

  /** @internal The source positioned for `s`, opened (at `s.cursor`) when there is none. */
  async sourceFor(s: Slice): Promise<Source> {
    if (!this.owns(s)) throw new Error('chunk reader: slice superseded by a later one');
    if (this.source) return this.source;
    let opened;
    try {
      opened = await this.read(s.cursor, this.signal);
    } catch (err) {
      throw this.owns(s) ? this.failed(err) : err;
    }
    // Superseded or closed while the request was under way: nobody will read this stream.
    if (!this.owns(s) || this.source) {
      opened.stream.on('error', () => undefined);
      opened.stream.destroy();
      throw new Error('chunk reader: slice superseded by a later one');
    }
    this.source = new Source(opened.stream, opened.resumed ? s.cursor : 0);
    return this.source;
  }

  /** @internal True while `s` is the current slice (and, given, `src` the current source). */
  owns(s: Slice, src?: Source): boolean {
    return !this.closed && this.owner === s && (src === undefined || this.source === src);
  }

  /** @internal `s` stopped before its end: forget the source's position. */
  release(s: Slice): void {
    if (this.owner !== s) return;
    this.owner = undefined;
    this.dropSource();
  }

  /** @internal Records `err` as the source's failure, drops the source, and returns `err`. */
  failed(err: unknown): unknown {
    this.lastFailure = err;
    this.dropSource();
    return err;
  }

  private dropSource(): void {
    this.source?.destroy();
    this.source = undefined;
  }
}

/**
 * Ends a slice no one will read any more with an error, for a consumer that still reads it. Its
 * consumer (a request body the transport gave up on) may have stopped listening: without a
 * listener of its own the error would be an uncaught exception that kills the process.
 */
function abandon(s: Readable, why: string): void {
  s.on('error', () => undefined);
  s.destroy(new Error(why));
}
