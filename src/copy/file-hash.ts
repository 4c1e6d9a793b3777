/**
 * SHA-256 of a download as it is written to its partial file. Small blobs are hashed inline from
 * the chunks; big ones on a worker thread that reads the file behind the writer, so that hashing
 * (0.65 s per GiB on this machine's cores) runs beside the main thread's receiving and writing
 * instead of on it. Either way the digest covers the file's bytes from 0, the resumed prefix too.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../errors.js';
import type { Digest } from '../image/digest.js';

/** Blobs from this size on are hashed on the worker; below it a worker's start costs more than it saves. */
export const WORKER_HASH_MIN = 16 * 1024 * 1024;
/** How far the file may grow before the worker is told: one message per MiB at most. */
const NOTIFY_STEP = 1024 * 1024;

/** The hash of one partial file being appended to. */
export interface FileHash {
  /** A chunk about to be appended (the inline hash reads it). */
  chunk(buf: Buffer): void;
  /** The file now holds at least `bytes` bytes (the worker reads up to there). */
  written(bytes: number): void;
  /** The file is complete at `size` bytes: its digest. */
  finish(size: number): Promise<Digest>;
  /** Drops the hash (the attempt failed; a new one starts from the file as it is). */
  cancel(): void;
}

/** Starts hashing the partial file at `path`, which holds `offset` bytes already, for a blob of `size`. */
export async function hashFile(path: string, offset: number, size: number): Promise<FileHash> {
  if (size >= WORKER_HASH_MIN) return workerHash(path, offset);
  const hash = createHash('sha256');
  if (offset > 0) for await (const chunk of createReadStream(path, { end: offset - 1 })) hash.update(chunk as Buffer);
  return {
    chunk: (buf) => hash.update(buf),
    written: () => undefined,
    finish: async () => `sha256:${hash.digest('hex')}` as Digest,
    cancel: () => undefined,
  };
}

/**
 * The worker, as CommonJS source run with `eval`: it needs no file of its own beside the bundle.
 * Jobs: `start` opens a file, `written` hashes up to a size, `end` hashes to the end and answers
 * with the digest, `cancel` drops the job. A read error answers the job with it.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const jobs = new Map();
const buf = Buffer.allocUnsafe(1 << 20);
const pump = (job, upTo) => {
  // Opened once there are bytes to read: the writer creates the file as it opens it.
  if (job.pos < upTo && job.fd === undefined) job.fd = openSync(job.path, 'r');
  while (job.pos < upTo) {
    const n = readSync(job.fd, buf, 0, Math.min(buf.length, upTo - job.pos), job.pos);
    if (n === 0) throw new Error('the partial file ends at ' + job.pos + ' bytes, ' + upTo + ' were written');
    job.hash.update(buf.subarray(0, n));
    job.pos += n;
  }
};
const drop = (id) => { const job = jobs.get(id); if (job) { jobs.delete(id); if (job.fd !== undefined) closeSync(job.fd); } };
parentPort.on('message', (m) => {
  try {
    if (m.type === 'start') {
      jobs.set(m.id, { path: m.path, fd: undefined, pos: 0, hash: createHash('sha256') });
      pump(jobs.get(m.id), m.bytes);
      return;
    }
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.type === 'written') pump(job, m.bytes);
    else if (m.type === 'end') {
      pump(job, m.bytes);
      parentPort.postMessage({ id: m.id, digest: 'sha256:' + job.hash.digest('hex') });
      drop(m.id);
    } else drop(m.id);
  } catch (err) {
    drop(m.id);
    parentPort.postMessage({ id: m.id, error: String(err && err.message) });
  }
});
`;

type Reply = { id: number; digest?: Digest; error?: string };

let worker: Worker | undefined;
let nextId = 0;
/** Jobs by id: the answer once it came, or who waits for it. */
const jobs = new Map<number, { reply?: Reply; waiter?: (r: Reply) => void }>();

/** The one hashing worker of this process, started on first use; it keeps the process alive only while a job waits. */
function hashWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.on('message', (r: Reply) => {
    const job = jobs.get(r.id);
    if (!job) return;
    if (job.waiter) job.waiter(r);
    else job.reply = r;
  });
  w.on('error', (err) => {
    // The worker is gone: every job in it fails (and its download with it); the next one starts a new worker.
    worker = undefined;
    for (const [id, job] of jobs) (job.waiter ?? ((r: Reply) => (job.reply = r)))({ id, error: err.message });
  });
  w.unref();
  worker = w;
  return w;
}

function workerHash(path: string, offset: number): FileHash {
  const w = hashWorker();
  const id = nextId++;
  jobs.set(id, {});
  w.ref();
  const done = (): void => {
    jobs.delete(id);
    if (jobs.size === 0) w.unref();
  };
  let told = offset;
  w.postMessage({ type: 'start', id, path, bytes: offset });
  return {
    chunk: () => undefined,
    written(bytes) {
      if (bytes - told < NOTIFY_STEP) return;
      told = bytes;
      w.postMessage({ type: 'written', id, bytes });
    },
    async finish(size) {
      w.postMessage({ type: 'end', id, bytes: size });
      const job = jobs.get(id)!;
      const reply = job.reply ?? (await new Promise<Reply>((resolve) => (job.waiter = resolve)));
      done();
      if (reply.error !== undefined || !reply.digest) throw new StoreError(`cannot hash ${path}: ${reply.error ?? 'no digest'}`);
      return reply.digest;
    },
    cancel() {
      w.postMessage({ type: 'cancel', id });
      done();
    },
  };
}
