/**
 * The digests of a download as it is written to its partial file: SHA-256 of its bytes (the
 * blob digest) and, for a layer, SHA-256 and size of its uncompressed bytes (the diff_id the
 * image config lists). Small blobs are hashed inline from the chunks; big ones on a worker thread
 * that reads the file behind the writer, so that hashing (0.65 s per GiB on this machine's cores)
 * and decompressing run beside the main thread's receiving and writing instead of on it. Either
 * way the digests cover the file's bytes from 0, the resumed prefix too: a resumed gzip stream is
 * decompressed whole.
 *
 * The file is read through a descriptor the caller opened (under its claim on the partial file),
 * never by its path: another pull of the same store may rename a complete partial file into
 * `blobs/` while this one reads it (see StoreSink.download), and the descriptor keeps reading the
 * same inode whatever its name is.
 *
 * What is decompressed is decided from the first bytes, as docker does: gzip is inflated; a file
 * that is neither gzip nor another compression is a plain tar whose diff_id is its digest; zstd
 * (Node 20's zlib has none: Node 22.15+ has), xz and bzip2 cannot be checked here, and are
 * accepted with nothing recorded.
 */
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { createGunzip, type Gunzip } from 'node:zlib';
import { StoreError } from '../errors.js';
import type { Digest } from '../image/digest.js';

/** Blobs from this size on are hashed on the worker; below it a worker's start costs more than it saves. */
export const WORKER_HASH_MIN = 16 * 1024 * 1024;
/** How far the file may grow before the worker is told: one message per MiB at most. */
const NOTIFY_STEP = 1024 * 1024;

/** A layer's uncompressed side: its digest and size, or why it could not be decompressed. */
export type DiffResult = { diffId: Digest; size: number } | { error: string };

/** What a finished hash found. */
export interface HashResult {
  digest: Digest;
  /** For a layer: its uncompressed digest and size; undefined when not a layer or not checkable (zstd, xz, bzip2). */
  diff?: DiffResult | undefined;
}

/** The hash of one partial file being appended to. */
export interface FileHash {
  /** A chunk about to be appended (the inline hash reads it; it must not be changed afterwards). */
  chunk(buf: Buffer): void;
  /** The file now holds at least `bytes` bytes (the worker reads up to there). */
  written(bytes: number): void;
  /** The file is complete at `size` bytes: its digests. */
  finish(size: number): Promise<HashResult>;
  /** Drops the hash (the attempt failed; a new one starts from the file as it is). */
  cancel(): void;
  /** Settles once nothing reads the file for this hash any more: its descriptor may then be closed. */
  readonly settled: Promise<void>;
}

/** Options of {@link hashFile}. */
export interface HashFileOptions {
  /** Also decompress and hash the uncompressed bytes (a layer). */
  layer?: boolean;
}

/**
 * Starts hashing the partial file open at `fd` (readable; it holds `offset` bytes already) for a
 * blob of `size` bytes. The caller keeps `fd` open until {@link FileHash.settled}.
 */
export async function hashFile(fd: number, offset: number, size: number, opts: HashFileOptions = {}): Promise<FileHash> {
  if (size >= WORKER_HASH_MIN) return workerHash(fd, offset, opts.layer ?? false);
  const hash = createHash('sha256');
  const diff = opts.layer ? new InlineDiff() : undefined;
  if (offset > 0) {
    const prefix = Buffer.allocUnsafe(offset);
    for (let at = 0; at < offset;) {
      const n = readSync(fd, prefix, at, offset - at, at);
      if (n === 0) throw new StoreError(`the partial file ends at ${at} bytes, ${offset} were expected`);
      at += n;
    }
    hash.update(prefix);
    diff?.update(prefix);
  }
  return {
    chunk: (buf) => {
      hash.update(buf);
      diff?.update(buf);
    },
    written: () => undefined,
    finish: async () => {
      const digest = `sha256:${hash.digest('hex')}` as Digest;
      return { digest, diff: await diff?.finish(digest) };
    },
    cancel: () => diff?.cancel(),
    settled: Promise.resolve(),
  };
}

/** gzip, zstd, xz, bzip2 magic numbers; anything else is a plain tar. */
function sniff(head: Buffer): 'gzip' | 'plain' | 'skip' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528 || head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) || head.subarray(0, 3).toString('latin1') === 'BZh') return 'skip';
  return 'plain';
}

/** The uncompressed side of a small layer, on the main thread (zlib inflates on the thread pool). */
class InlineDiff {
  private mode: 'sniff' | 'gzip' | 'plain' | 'skip' = 'sniff';
  private head: Buffer[] = [];
  private total = 0;
  private gz: Gunzip | undefined;
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private error: string | undefined;

  update(buf: Buffer): void {
    this.total += buf.length;
    if (this.mode === 'sniff') {
      this.head.push(buf);
      if (this.total < 8) return;
      buf = this.decide();
    }
    if (this.gz && this.error === undefined) this.gz.write(buf);
  }

  private decide(): Buffer {
    const first = Buffer.concat(this.head);
    this.head = [];
    this.mode = first.length >= 4 ? sniff(Buffer.concat([first, Buffer.alloc(8)])) : 'plain';
    if (this.mode === 'gzip') {
      const gz = createGunzip({ chunkSize: 256 * 1024 });
      gz.on('data', (d: Buffer) => {
        this.hash.update(d);
        this.size += d.length;
      });
      gz.on('error', (e) => (this.error ??= e.message));
      this.gz = gz;
    }
    return first;
  }

  async finish(digest: Digest): Promise<DiffResult | undefined> {
    if (this.mode === 'sniff') {
      const first = this.decide();
      if (this.gz) this.gz.write(first);
    }
    if (this.mode === 'plain') return { diffId: digest, size: this.total };
    if (!this.gz) return undefined;
    if (this.error === undefined) {
      this.gz.end();
      await finished(this.gz).catch((e: Error) => (this.error ??= e.message));
    }
    return this.error !== undefined ? { error: this.error } : { diffId: `sha256:${this.hash.digest('hex')}`, size: this.size };
  }

  cancel(): void {
    this.gz?.destroy();
  }
}

/**
 * The workers' code, as CommonJS source run with `eval`: it needs no file of its own beside the
 * bundle. Jobs: `start` begins reading a descriptor, hashing its bytes (`digest`) and/or
 * decompressing and hashing its uncompressed side (`diff`); `written` reads up to a size, `end`
 * to the end; `cancel` drops the job. Every started job gets exactly one answer: its digests, an
 * error, or `cancelled`. A diff job reads into two buffers in turn, the one gunzip is inflating
 * and the next, so that reading and hashing overlap the inflate and no chunk is copied.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createGunzip } = require('node:zlib');
const { finished } = require('node:stream/promises');
const READ = 1 << 20;
const shared = Buffer.allocUnsafe(READ);
const jobs = new Map();
// gunzip hands out its output in fresh buffers, garbage once hashed, that V8 collects only when
// some 64 MiB of them have piled up; fresh memory costs a page fault per page on this kind of VM.
// A minor GC every 8 MiB of output keeps reusing the same few MiB: measured on 3 x 400 MiB,
// peak RSS 99 -> 76 MiB and 2.8 -> 1.6 s. Without the gc hook (it is a V8 flag) nothing changes.
let minorGc;
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  minorGc = () => gc({ type: 'minor' });
} catch {
  minorGc = undefined;
}
let inflated = 0;
const GC_EVERY = 8 << 20;
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const sniff = (h) => {
  if (h.length < 4) return 'plain';
  if (h[0] === 0x1f && h[1] === 0x8b) return 'gzip';
  if (h.readUInt32LE(0) === 0xfd2fb528 || (h.length >= 6 && h.subarray(0, 6).equals(XZ)) || h.subarray(0, 3).toString('latin1') === 'BZh') return 'skip';
  return 'plain';
};
const decide = (diff, head) => {
  diff.mode = sniff(head);
  if (diff.mode === 'gzip') {
    diff.hash = createHash('sha256');
    diff.gz = createGunzip({ chunkSize: 256 * 1024 });
    diff.gz.on('data', (d) => {
      diff.hash.update(d);
      diff.size += d.length;
      inflated += d.length;
      if (minorGc && inflated >= GC_EVERY) {
        inflated = 0;
        minorGc();
      }
    });
    diff.gz.on('error', (e) => { if (diff.error === undefined) diff.error = e.message; });
  }
};
// Resolves once gunzip has taken all of chunk (its buffer may then be reused).
const write = (diff, chunk) => {
  if (!diff.gz || diff.error !== undefined || chunk.length === 0) return undefined;
  return new Promise((resolve) => {
    const done = () => { diff.gz.off('error', done); resolve(); };
    diff.gz.on('error', done);
    diff.gz.write(chunk, done);
  });
};
const feed = (diff, chunk) => {
  diff.total += chunk.length;
  if (diff.mode === 'sniff') {
    if (diff.head.length === 0 && chunk.length >= 8) {
      decide(diff, chunk);
    } else {
      diff.head.push(Buffer.from(chunk));
      if (diff.total < 8) return undefined;
      const head = Buffer.concat(diff.head);
      diff.head = [];
      decide(diff, head);
      return write(diff, head);
    }
  }
  return write(diff, chunk);
};
const endDiff = async (diff, digest) => {
  if (diff.mode === 'sniff') {
    const head = Buffer.concat(diff.head);
    decide(diff, head);
    await write(diff, head);
  }
  if (diff.mode === 'plain') return { diffId: digest, size: diff.total };
  if (!diff.gz) return undefined;
  if (diff.error === undefined) {
    diff.gz.end();
    try { await finished(diff.gz); } catch (e) { if (diff.error === undefined) diff.error = String(e && e.message); }
  }
  return diff.error !== undefined ? { error: diff.error } : { diffId: 'sha256:' + diff.hash.digest('hex'), size: diff.size };
};
const run = async (job) => {
  if (job.running) return;
  job.running = true;
  try {
    for (;;) {
      if (job.cancelled) {
        jobs.delete(job.id);
        if (job.diff && job.diff.gz) job.diff.gz.destroy();
        parentPort.postMessage({ id: job.id, cancelled: true });
        return;
      }
      if (job.pos < job.target && !job.hash && job.diff.mode !== 'sniff' && job.diff.mode !== 'gzip') {
        // A plain tar (its diff_id is its digest) or a compression that cannot be checked: nothing to read.
        job.diff.total += job.target - job.pos;
        job.pos = job.target;
        continue;
      }
      if (job.pos < job.target) {
        const want = Math.min(READ, job.target - job.pos);
        const b = job.diff ? job.bufs[(job.turn ^= 1)] : shared;
        const n = readSync(job.fd, b, 0, want, job.pos);
        if (n === 0) throw new Error('the partial file ends at ' + job.pos + ' bytes, ' + job.target + ' were written');
        const chunk = b.subarray(0, n);
        if (job.hash) job.hash.update(chunk);
        job.pos += n;
        if (job.diff) {
          // The other buffer is free once gunzip has taken the chunk before this one.
          if (job.inflating) await job.inflating;
          job.inflating = feed(job.diff, chunk);
        }
        continue;
      }
      if (!job.ending) return;
      if (job.inflating) await job.inflating;
      const digest = job.hash ? 'sha256:' + job.hash.digest('hex') : undefined;
      const diff = job.diff ? await endDiff(job.diff, digest) : undefined;
      jobs.delete(job.id);
      parentPort.postMessage({ id: job.id, digest, diff });
      return;
    }
  } catch (err) {
    jobs.delete(job.id);
    if (job.diff && job.diff.gz) job.diff.gz.destroy();
    parentPort.postMessage({ id: job.id, error: String(err && err.message) });
  } finally {
    job.running = false;
  }
};
parentPort.on('message', (m) => {
  if (m.type === 'start') {
    const diff = m.diff ? { mode: 'sniff', head: [], total: 0, gz: undefined, hash: undefined, size: 0, error: undefined } : undefined;
    const job = {
      id: m.id, fd: m.fd, pos: 0, target: m.bytes, ending: false, cancelled: false, running: false,
      hash: m.digest ? createHash('sha256') : undefined, diff, inflating: undefined, turn: 0,
      bufs: diff ? [Buffer.allocUnsafe(READ), Buffer.allocUnsafe(READ)] : undefined,
    };
    jobs.set(m.id, job);
    run(job);
    return;
  }
  const job = jobs.get(m.id);
  if (!job) return;
  if (m.type === 'cancel') job.cancelled = true;
  else {
    job.target = Math.max(job.target, m.bytes);
    if (m.type === 'end') job.ending = true;
  }
  run(job);
});
`;

type Reply = { id: number; digest?: Digest; diff?: DiffResult; error?: string; cancelled?: true };

/**
 * Two workers: a layer's digest is computed on one and its uncompressed side (inflate + SHA-256)
 * on the other, each reading the file, so that the two hashes of a layer run on two cores instead
 * of one after the other. Other blobs use the first.
 */
const workers: (Worker | undefined)[] = [undefined, undefined];
let nextId = 0;
/** Jobs waiting for their one answer, with who waits for it, per worker. */
const pending = new Map<number, ((r: Reply) => void)[]>();
const owner = new Map<number, Worker>();

/** Worker `i` of this process, started on first use; it keeps the process alive only while one of its jobs waits. */
function hashWorker(i: number): Worker {
  const existing = workers[i];
  if (existing) return existing;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  const answer = (r: Reply): void => {
    const waiters = pending.get(r.id);
    if (!waiters) return;
    pending.delete(r.id);
    owner.delete(r.id);
    if (![...owner.values()].includes(w)) w.unref();
    for (const f of waiters) f(r);
  };
  w.on('message', answer);
  w.on('error', (err) => {
    // The worker is gone: every job in it fails (and its download with it); the next one starts a new worker.
    if (workers[i] === w) workers[i] = undefined;
    for (const [id, o] of [...owner]) if (o === w) answer({ id, error: err.message });
  });
  w.unref();
  workers[i] = w;
  return w;
}

/** One job on worker `i`. */
interface Job {
  written(bytes: number): void;
  end(size: number): Promise<Reply>;
  cancel(): void;
  settled: Promise<void>;
}

function startJob(i: number, fd: number, offset: number, what: { digest: boolean; diff: boolean }): Job {
  const w = hashWorker(i);
  const id = nextId++;
  let reply: Reply | undefined;
  const waiters: ((r: Reply) => void)[] = [(r) => (reply = r)];
  pending.set(id, waiters);
  owner.set(id, w);
  const settled = new Promise<void>((resolve) => waiters.push(() => resolve()));
  w.ref();
  let cancelled = false;
  w.postMessage({ type: 'start', id, fd, bytes: offset, ...what });
  return {
    written: (bytes) => w.postMessage({ type: 'written', id, bytes }),
    async end(size) {
      w.postMessage({ type: 'end', id, bytes: size });
      return reply ?? (await new Promise<Reply>((resolve) => waiters.push(resolve)));
    },
    cancel() {
      if (reply || cancelled) return;
      cancelled = true;
      w.postMessage({ type: 'cancel', id });
    },
    settled,
  };
}

function workerHash(fd: number, offset: number, layer: boolean): FileHash {
  const jobs = layer
    ? [startJob(0, fd, offset, { digest: true, diff: false }), startJob(1, fd, offset, { digest: false, diff: true })]
    : [startJob(0, fd, offset, { digest: true, diff: false })];
  let told = offset;
  return {
    chunk: () => undefined,
    written(bytes) {
      if (bytes - told < NOTIFY_STEP) return;
      told = bytes;
      for (const j of jobs) j.written(bytes);
    },
    async finish(size) {
      const [digest, diff] = await Promise.all(jobs.map((j) => j.end(size)));
      for (const r of [digest, diff]) {
        if (r && (r.error !== undefined || r.cancelled)) throw new StoreError(`cannot hash the partial download: ${r.error ?? 'cancelled'}`);
      }
      if (!digest?.digest) throw new StoreError('cannot hash the partial download: no digest');
      // A plain tar's diff_id is its digest: the diff job (which hashed nothing) says `plain` with its own digest missing.
      let d = diff?.diff;
      if (d && 'diffId' in d && d.diffId === undefined) d = { diffId: digest.digest, size: d.size };
      return { digest: digest.digest, diff: d };
    },
    cancel() {
      for (const j of jobs) j.cancel();
    },
    settled: Promise.all(jobs.map((j) => j.settled)).then(() => undefined),
  };
}
