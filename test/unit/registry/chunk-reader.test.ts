// ChunkReader in-process: consecutive slices of one positioned source, reopened only where the
// offsets jump; bounded memory with backpressure from the consumer down to the source.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DigestMismatchError } from '../../../src/errors.js';
import type { BlobRead, BlobReader } from '../../../src/image/endpoint.js';
import { ChunkReader } from '../../../src/registry/chunk-reader.js';

const MiB = 1024 * 1024;

/** A BlobReader over `data`, emitting `chunk`-byte pieces on demand; records every call. */
function fakeReader(data: Buffer, opts: { chunk?: number; ignoresOffset?: boolean; failAt?: number } = {}) {
  const chunk = opts.chunk ?? 7;
  const offsets: number[] = [];
  const streams: Readable[] = [];
  const read: BlobReader = async (offset) => {
    offsets.push(offset);
    let pos = opts.ignoresOffset ? 0 : offset;
    const stream = new Readable({
      read() {
        if (opts.failAt !== undefined && pos >= opts.failAt) {
          this.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
          return;
        }
        if (pos >= data.length) {
          this.push(null);
          return;
        }
        const end = Math.min(pos + chunk, data.length, opts.failAt ?? Infinity);
        this.push(data.subarray(pos, end));
        pos = end;
      },
    });
    streams.push(stream);
    return { stream, resumed: !opts.ignoresOffset } satisfies BlobRead;
  };
  return { read, offsets, streams };
}

const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff));
const all = async (s: Readable): Promise<Buffer> => Buffer.concat(await s.toArray());

describe('ChunkReader', () => {
  it('consecutive slices continue one source stream, exact bytes each, surplus kept', async () => {
    const data = bytes(100);
    const f = fakeReader(data, { chunk: 7 });
    const r = new ChunkReader(f.read, data.length);
    // 7-byte source pieces never line up with 10/25/65-byte slices: the surplus carries over.
    expect(await all(r.slice(0, 10))).toEqual(data.subarray(0, 10));
    expect(await all(r.slice(10, 35))).toEqual(data.subarray(10, 35));
    expect(await all(r.slice(35, 100))).toEqual(data.subarray(35, 100));
    expect(f.offsets).toEqual([0]);
    r.close();
    expect(f.streams[0]!.destroyed).toBe(true);
  });

  it('a slice takes nothing from the source past its end', async () => {
    const data = bytes(1000);
    const f = fakeReader(data, { chunk: 10 });
    const r = new ChunkReader(f.read, data.length);
    expect(await all(r.slice(0, 15))).toEqual(data.subarray(0, 15));
    // 15 bytes asked: two 10-byte pieces read, nothing more flowing (the source is paused).
    await new Promise((res) => setImmediate(res));
    expect(f.streams[0]!.readableFlowing).not.toBe(true);
    r.close();
  });

  it('a slice elsewhere (a resync, a 416) reopens at its start; then continues from there', async () => {
    const data = bytes(100);
    const f = fakeReader(data);
    const r = new ChunkReader(f.read, data.length);
    expect(await all(r.slice(0, 40))).toEqual(data.subarray(0, 40));
    // The registry only kept 30 bytes: back to 30.
    expect(await all(r.slice(30, 60))).toEqual(data.subarray(30, 60));
    // And forward (a resumed session further on).
    expect(await all(r.slice(80, 90))).toEqual(data.subarray(80, 90));
    expect(await all(r.slice(90, 100))).toEqual(data.subarray(90, 100));
    expect(f.offsets).toEqual([0, 30, 80]);
    expect(f.streams.slice(0, 2).every((s) => s.destroyed)).toBe(true);
    r.close();
  });

  it('a source that ignored the offset (resumed: false) is skipped forward to it', async () => {
    const data = bytes(100);
    const f = fakeReader(data, { chunk: 6, ignoresOffset: true });
    const r = new ChunkReader(f.read, data.length);
    expect(await all(r.slice(33, 50))).toEqual(data.subarray(33, 50));
    expect(await all(r.slice(50, 100))).toEqual(data.subarray(50, 100));
    expect(f.offsets).toEqual([33]);
    r.close();
  });

  it('a source that ends early fails the slice with DigestMismatchError, reported as the source failure', async () => {
    const f = fakeReader(bytes(60));
    const r = new ChunkReader(f.read, 100);
    expect(await all(r.slice(0, 50))).toHaveLength(50);
    const err = await all(r.slice(50, 100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as Error).message).toBe('blob source ended at byte 60 of 100');
    expect(r.takeFailure()).toBe(err);
    expect(r.takeFailure()).toBeUndefined();
    r.close();
  });

  it('a source error fails the slice; the next slice reopens', async () => {
    const data = bytes(100);
    let calls = 0;
    const good = fakeReader(data);
    const bad = fakeReader(data, { failAt: 20 });
    const read: BlobReader = (offset, signal) => (calls++ === 0 ? bad.read(offset, signal) : good.read(offset, signal));
    const r = new ChunkReader(read, data.length);
    const err = await all(r.slice(0, 50)).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ECONNRESET');
    expect(r.takeFailure()).toBe(err);
    expect(await all(r.slice(0, 50))).toEqual(data.subarray(0, 50));
    expect(bad.offsets).toEqual([0]);
    expect(good.offsets).toEqual([0]);
    r.close();
  });

  it('a read that fails (a 404 from the source) fails the slice and is the source failure', async () => {
    const boom = new Error('source says 404');
    const r = new ChunkReader(() => Promise.reject(boom), 10);
    await expect(all(r.slice(0, 10))).rejects.toBe(boom);
    expect(r.takeFailure()).toBe(boom);
    r.close();
  });

  it('a consumer that stops early (the PATCH failed) leaves the next slice working at any offset', async () => {
    // Slices far larger than a stream's buffer (16 KiB): a consumer that stops leaves them unfinished.
    const K = 1024;
    const data = bytes(400 * K);
    const f = fakeReader(data, { chunk: K });
    const r = new ChunkReader(f.read, data.length);
    // Destroyed after a few bytes: the source's position is forgotten.
    const first = r.slice(0, 100 * K);
    for await (const piece of first) {
      expect(piece).toHaveLength(K);
      break; // destroys the slice
    }
    expect(f.streams[0]!.destroyed).toBe(true);
    // The same chunk again (the registry has nothing of it): a fresh stream from 0.
    expect(await all(r.slice(0, 100 * K))).toEqual(data.subarray(0, 100 * K));
    // Abandoned without being destroyed (a body the transport never finished): the next slice
    // supersedes it, even at the very offset where it would have gone on.
    const abandoned = r.slice(100 * K, 200 * K);
    abandoned.once('error', () => undefined);
    await new Promise<void>((res) => abandoned.once('readable', () => res()));
    abandoned.read(3);
    expect(await all(r.slice(100 * K, 400 * K))).toEqual(data.subarray(100 * K));
    expect(abandoned.destroyed).toBe(true);
    expect(f.offsets).toEqual([0, 0, 100 * K]);
    r.close();
  });

  it('one whole-blob slice made again (the monolithic PUT retried) reopens from 0 each time', async () => {
    const data = bytes(256 * 1024);
    const f = fakeReader(data, { chunk: 1024 });
    const r = new ChunkReader(f.read, data.length);
    const make = () => r.slice(0, data.length);
    const once = make();
    once.read(0); // the first attempt starts reading, then its request fails
    await new Promise((res) => setImmediate(res));
    expect(await all(make())).toEqual(data);
    expect(once.destroyed).toBe(true);
    expect(f.offsets).toEqual([0, 0]);
    r.close();
  });

  it('an empty slice opens nothing; bad ranges and slices after close throw', async () => {
    const f = fakeReader(Buffer.alloc(0));
    const r = new ChunkReader(f.read, 0);
    expect(await all(r.slice(0, 0))).toHaveLength(0);
    expect(f.offsets).toEqual([]);
    expect(() => r.slice(0, 1)).toThrow(RangeError);
    r.close();
    expect(() => r.slice(0, 0)).toThrow(/after close/);
  });

  it('close() destroys the open source and an unfinished slice', async () => {
    const data = bytes(100);
    const f = fakeReader(data);
    const r = new ChunkReader(f.read, data.length);
    const s = r.slice(0, 100);
    s.once('error', () => undefined);
    await new Promise<void>((res) => s.once('readable', () => res()));
    r.close();
    expect(f.streams[0]!.destroyed).toBe(true);
    expect(s.destroyed).toBe(true);
  });

  it('a slice superseded or closed while its consumer no longer listens ends quietly (no uncaught error)', async () => {
    const data = Buffer.alloc(64, 3);
    const { read } = fakeReader(data);
    const reader = new ChunkReader(read, data.length);
    // A request body the transport gave up on: started, then left without an error listener.
    const abandoned = reader.slice(0, 32);
    abandoned.resume();
    await new Promise((r) => setImmediate(r));
    const next = reader.slice(0, 32);
    const chunks: Buffer[] = [];
    for await (const c of next as AsyncIterable<Buffer>) chunks.push(c);
    expect(Buffer.concat(chunks)).toEqual(data.subarray(0, 32));
    const last = reader.slice(32, 64);
    last.resume();
    reader.close();
    await new Promise((r) => setImmediate(r));
    expect(abandoned.destroyed && last.destroyed).toBe(true);
  });

  it('256 MiB in 16 MiB slices: backpressure reaches the source, memory stays bounded', async () => {
    const size = 256 * MiB;
    const piece = 64 * 1024;
    let generated = 0;
    let consumed = 0;
    let maxInFlight = 0;
    let peakRss = 0;
    const offsets: number[] = [];
    // A source that makes its bytes only when asked (fresh buffers, as a socket or a file gives them).
    const read: BlobReader = async (offset) => {
      offsets.push(offset);
      let pos = offset;
      const stream = new Readable({
        read() {
          if (pos >= size) return void this.push(null);
          const n = Math.min(piece, size - pos);
          const buf = Buffer.allocUnsafe(n).fill(pos & 0xff);
          pos += n;
          generated += n;
          this.push(buf);
        },
      });
      return { stream, resumed: true };
    };
    // A consumer slower than the source (one tick per piece), as a PATCH body on a slow link.
    const sink = () =>
      new Writable({
        write(chunk: Buffer, _e, cb) {
          consumed += chunk.length;
          maxInFlight = Math.max(maxInFlight, generated - consumed);
          peakRss = Math.max(peakRss, process.memoryUsage.rss());
          setImmediate(cb);
        },
      });
    // A full GC before the baseline (gc() exposed at run time: vitest's workers run without
    // --expose-gc), so that garbage of earlier tests does not hide growth by being freed meanwhile.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const before = process.memoryUsage().rss;
    peakRss = before;
    const r = new ChunkReader(read, size);
    for (let start = 0; start < size; start += 16 * MiB) await pipeline(r.slice(start, start + 16 * MiB), sink());
    r.close();
    expect(consumed).toBe(size);
    expect(offsets).toEqual([0]);
    // The real check, deterministic: bytes made by the source but not yet taken by the consumer.
    // With backpressure that is a few 64 KiB pieces (the source's, the slice's and the sink's
    // buffers, one surplus); without it, a whole 16 MiB chunk or the whole 256 MiB.
    expect(maxInFlight).toBeLessThan(2 * MiB);
    // RSS, generous on purpose: the buffers consumed are garbage that V8 frees only when it next
    // collects (it runs a GC when external memory grew by about 64 MiB), and RSS includes the
    // allocator's slack. A correct reader stays far below; one that held the whole blob would
    // grow by 256 MiB. The bound catches that, not a few MiB of GC timing.
    expect(peakRss - before).toBeLessThan(128 * MiB);
  });
});
