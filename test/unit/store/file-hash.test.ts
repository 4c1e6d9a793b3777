// The digests of a download as it is written (store/file-hash.ts): the blob digest and, for a
// layer, the diff_id and size of its uncompressed bytes, inline for small blobs and on the two
// hashing workers for big ones. Each byte of a big layer is read from the file once (the reading
// worker hands its buffers to the other one for inflating), and 4 downloads at once still use the
// same 2 workers.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hashFile, hashWorkerStats, type HashResult, WORKER_HASH_MIN } from '../../../src/store/file-hash.js';
import { makeSandbox } from '../../helpers/cli.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const BIG = WORKER_HASH_MIN + 3 * 1024 * 1024 + 123;

let files = 0;
/**
 * Writes `bytes` into a new partial file as a download does (the first `resumed` bytes are there
 * before the hash starts), 64 KiB at a time, telling the hash; returns what it found.
 */
async function download(bytes: Buffer, opts: { layer?: boolean; resumed?: number } = {}): Promise<HashResult> {
  const fd = openSync(join(await makeSandbox(), `partial-${++files}`), 'a+');
  try {
    const resumed = opts.resumed ?? 0;
    writeSync(fd, bytes, 0, resumed);
    const hash = await hashFile(fd, resumed, bytes.length, { layer: opts.layer ?? true });
    for (let at = resumed; at < bytes.length;) {
      const chunk = bytes.subarray(at, at + 64 * 1024);
      hash.chunk(chunk);
      at += writeSync(fd, chunk);
      hash.written(at);
      if (at % (1024 * 1024) === 0) await new Promise((r) => setImmediate(r));
    }
    try {
      return await hash.finish(bytes.length);
    } finally {
      await hash.settled;
    }
  } finally {
    closeSync(fd);
  }
}

const tar = randomBytes(BIG);
const gz = gzipSync(tar, { level: 1 });

describe('hashFile on the workers (big blobs)', () => {
  it('a gzip layer: its digest, diff_id and size; every byte read once, by one of 2 workers', async () => {
    const before = hashWorkerStats();
    expect(await download(gz)).toEqual({ digest: sha256(gz), diff: { diffId: sha256(tar), size: tar.length } });
    const after = hashWorkerStats();
    expect(after.bytesRead - before.bytesRead).toBe(gz.length);
    expect(after.workers).toBe(2);
  });

  it('a resumed download covers the bytes there before it too', async () => {
    expect(await download(gz, { resumed: 5 * 1024 * 1024 + 7 })).toEqual({ digest: sha256(gz), diff: { diffId: sha256(tar), size: tar.length } });
  });

  it('4 layers at once: all right, still 2 workers, each byte read once', async () => {
    const tars = [0, 1, 2, 3].map((i) => Buffer.concat([tar.subarray(i), Buffer.from([i])]));
    const gzs = tars.map((t) => gzipSync(t, { level: 1 }));
    const before = hashWorkerStats();
    const results = await Promise.all(gzs.map((g) => download(g)));
    expect(results).toEqual(gzs.map((g, i) => ({ digest: sha256(g), diff: { diffId: sha256(tars[i]!), size: tars[i]!.length } })));
    const after = hashWorkerStats();
    expect(after.bytesRead - before.bytesRead).toBe(gzs.reduce((n, g) => n + g.length, 0));
    expect(after.workers).toBe(2);
    expect(after.workersStarted).toBe(2);
  });

  it('several gzip members are one stream', async () => {
    const half = BIG >> 1;
    const two = Buffer.concat([gzipSync(tar.subarray(0, half), { level: 1 }), gzipSync(tar.subarray(half), { level: 0 })]);
    expect((await download(two)).diff).toEqual({ diffId: sha256(tar), size: tar.length });
  });

  it('a plain tar: its diff_id is its digest', async () => {
    expect(await download(tar)).toEqual({ digest: sha256(tar), diff: { diffId: sha256(tar), size: tar.length } });
  });

  it('not a layer: the digest only', async () => {
    expect(await download(gz, { layer: false })).toEqual({ digest: sha256(gz), diff: undefined });
  });

  it('zstd cannot be checked: nothing recorded', async () => {
    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), tar]);
    expect(await download(zstd)).toEqual({ digest: sha256(zstd), diff: undefined });
  });

  it('gzip that does not decompress: a bad CRC, a truncated stream, garbage after the header', async () => {
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6]! ^= 1;
    const cases: Array<[Buffer, string]> = [
      [badCrc, 'incorrect data check'],
      [gz.subarray(0, gz.length - 4), 'unexpected end of file'],
      [Buffer.concat([gz.subarray(0, 10), Buffer.alloc(BIG, 0xff)]), 'invalid block type'],
    ];
    for (const [bytes, message] of cases) {
      const r = await download(bytes);
      expect(r.digest).toBe(sha256(bytes));
      expect(r.diff).toEqual({ error: expect.stringContaining(message) as string });
    }
  });

  it('a cancelled hash settles, and the next one is right', async () => {
    const fd = openSync(join(await makeSandbox(), 'cancelled'), 'a+');
    const hash = await hashFile(fd, 0, gz.length, { layer: true });
    writeSync(fd, gz, 0, 8 * 1024 * 1024);
    hash.written(8 * 1024 * 1024);
    hash.cancel();
    await hash.settled;
    closeSync(fd);
    expect((await download(gz)).diff).toEqual({ diffId: sha256(tar), size: tar.length });
  });
});

describe('hashFile inline (small blobs)', () => {
  const small = randomBytes(300_000);
  it('a gzip layer, a resumed one, a plain tar', async () => {
    const g = gzipSync(small);
    expect(await download(g)).toEqual({ digest: sha256(g), diff: { diffId: sha256(small), size: small.length } });
    expect(await download(g, { resumed: 1000 })).toEqual({ digest: sha256(g), diff: { diffId: sha256(small), size: small.length } });
    expect(await download(small)).toEqual({ digest: sha256(small), diff: { diffId: sha256(small), size: small.length } });
  });
});
