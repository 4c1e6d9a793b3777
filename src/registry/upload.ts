/**
 * The chunked blob upload: `POST` a session, `PATCH` chunks of at most `chunkSize` bytes with
 * `Content-Range`, follow `Location` after every response, resync from the server's `Range`
 * on 416 or after a failure, and close with `PUT ?digest=`. Sessions are saved after every
 * chunk so that the next run continues where this one stopped.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { InterruptedError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { BlobReader } from '../image/endpoint.js';
import type { RetryEvent } from '../transport/retry.js';
import { Retrier } from '../transport/retry.js';
import { ChunkReader } from './chunk-reader.js';
import type { RegistryClient, UploadSession } from './client.js';
import { RegistryError } from './errors.js';

/** One blob to upload. */
export interface BlobUpload {
  repo: string;
  digest: Digest;
  size: number;
  /**
   * Reads the blob from an offset (a Range GET from another registry, a file of the store). Called
   * once for the whole upload while chunks follow each other, again only where the upload jumps
   * (a resync, a 416, a resumed session, a chunk sent again); see {@link ChunkReader}.
   */
  read: BlobReader;
  /** Bytes per PATCH (at least the registry's OCI-Chunk-Min-Length). */
  chunkSize: number;
  /**
   * Lets chunks grow from `chunkSize` up to this size (and to an eighth of the blob) while each
   * still takes under {@link CHUNK_SECONDS} at the speed measured on the previous one (unset:
   * every chunk is `chunkSize`).
   */
  growTo?: number | undefined;
  /** A session saved by an earlier run, to continue. */
  resume?: UploadSession | undefined;
  /** Persists the session (or forgets it, with undefined). */
  save(s: UploadSession | undefined): Promise<void>;
  /** Bytes the registry has confirmed so far, or that are on the wire. */
  onProgress(sent: number): void;
  onRetry(e: RetryEvent): void;
  /**
   * Told when a resumed session was rejected at the final PUT and the blob is uploaded again from
   * byte 0 (`upload session rejected by the registry (digest invalid): uploading again from the start`).
   */
  onRestart?: ((reason: string) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Asked between chunks: true to stop cleanly (Ctrl-C), keeping the session for the next run. */
  stopping?: () => boolean;
}

/** Thrown when an upload stopped between chunks on request; the session is saved. */
export class UploadInterrupted extends InterruptedError {
  constructor(readonly offset: number) {
    super('interrupted: run the same push again to resume the upload');
  }
}

function counted(stream: Readable, base: number, onProgress: (n: number) => void): Readable {
  let sent = base;
  const t = new Transform({
    transform(chunk: Buffer, _e, cb) {
      sent += chunk.length;
      onProgress(sent);
      cb(null, chunk);
    },
  });
  stream.on('error', (err) => t.destroy(err));
  return stream.pipe(t);
}

const MiB = 1024 * 1024;
/** How long a grown chunk may take: what a Ctrl-C (stop after this chunk) or a resent chunk costs at most. */
export const CHUNK_SECONDS = 2;

/** The next chunk's size: what the last chunk's speed moves in {@link CHUNK_SECONDS}, whole MiB, within [floor, ceiling]. */
export function nextChunkSize(sent: number, seconds: number, floor: number, ceiling: number): number {
  const fits = Math.floor((sent / Math.max(seconds, 1e-3)) * CHUNK_SECONDS / MiB) * MiB;
  return Math.max(floor, Math.min(ceiling, fits));
}

/** Spec codes a registry answers the final PUT with when the session's bytes are not the blob. */
const SESSION_REJECTED = new Set(['DIGEST_INVALID', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN']);

/** The spec code (`digest invalid`) when `err` says the registry will not close this session with this digest. */
function sessionRejection(err: unknown): string | undefined {
  if (!(err instanceof RegistryError) || (err.status !== 400 && err.status !== 404)) return undefined;
  const code = err.errors.find((e) => SESSION_REJECTED.has(e.code))?.code;
  return code?.toLowerCase().replace(/_/g, ' ');
}

/** Uploads one blob, reading it from `u.read` chunk after chunk; the source is closed when it returns or throws. */
export async function uploadBlob(reg: RegistryClient, u: BlobUpload): Promise<void> {
  // One positioned source stream for every chunk: no temp file, and no socket or fd left open.
  const reader = new ChunkReader(u.read, u.size, u.signal);
  try {
    await upload(reg, u, reader);
  } finally {
    reader.close();
  }
}

async function upload(reg: RegistryClient, u: BlobUpload, reader: ChunkReader): Promise<void> {
  let session: UploadSession | undefined;
  if (u.resume) {
    session = await reg.uploadStatus(u.repo, u.resume.location, u.signal).catch(() => undefined);
    if (!session || session.offset > u.size) {
      // Not resumable: tell the registry to drop it (it would expire it anyway) and start over.
      await reg.cancelUpload(u.repo, u.resume);
      session = undefined;
      await u.save(undefined);
    }
  }
  // The session in use was saved by an earlier run: a rejection of its final PUT may be the saved
  // state's fault (a registry that lost or mangled the bytes since), not the blob's.
  let resumed = session !== undefined;
  const retrier = new Retrier(reg.transport.retryPolicy, { signal: u.signal, onRetry: u.onRetry });
  let chunkSize = u.chunkSize;
  // An eighth of the blob at most: a push stopped or killed anywhere has sent all but the chunk in
  // flight, so the next run resends little (a 64 MiB layer keeps 16 MiB chunks).
  let ceiling = u.growTo ? Math.max(u.chunkSize, Math.min(u.growTo, Math.floor(u.size / 8 / MiB) * MiB)) : u.chunkSize;
  const resync = async (): Promise<void> => {
    // Where did the registry get to? A session it no longer knows (docker-registry cancels one
    // whose last PATCH was cut short: "upload resumed at wrong offset") means starting over.
    const status = session ? await reg.uploadStatus(u.repo, session.location, u.signal).catch(() => undefined) : undefined;
    session = status && status.offset <= u.size ? { ...status, ...(session?.minChunk ? { minChunk: session.minChunk } : {}) } : undefined;
    if (!session) resumed = false;
    await u.save(session);
  };

  for (;;) {
    try {
      if (!session) {
        // A blob that fits one chunk goes as POST + PUT with the body: one round trip fewer.
        session = await reg.startUpload(u.repo, u.signal);
        resumed = false;
        if (u.size <= Math.max(u.chunkSize, session.minChunk ?? 0)) {
          const s = session;
          await reg.finishUpload(u.repo, s, u.digest, { make: () => counted(reader.slice(0, u.size), 0, u.onProgress), length: u.size }, u.signal);
          await u.save(undefined);
          return;
        }
        await u.save(session);
      }
      while (session.offset < u.size) {
        if (u.stopping?.()) throw new UploadInterrupted(session.offset);
        const chunk = Math.max(chunkSize, session.minChunk ?? 0);
        const start = session.offset;
        const len = Math.min(chunk, u.size - start);
        const s: UploadSession = session;
        const began = performance.now();
        let next: UploadSession | { status: 416 };
        try {
          next = await reg.patch(u.repo, s, () => counted(reader.slice(start, start + len), start, u.onProgress), len, u.signal);
        } catch (err) {
          // A proxy's body limit (nginx client_max_body_size, a CDN's 100 MB) refused a chunk that
          // grew: the bytes never reached the registry, so the session is as it was. Go back to
          // the size that passed and grow no further.
          if (err instanceof RegistryError && err.status === 413 && chunkSize > u.chunkSize && len > u.chunkSize) {
            ceiling = chunkSize = u.chunkSize;
            continue;
          }
          throw err;
        }
        if (ceiling > u.chunkSize && len === chunk) chunkSize = nextChunkSize(len, (performance.now() - began) / 1000, u.chunkSize, ceiling);
        if ('status' in next) {
          // 416: the registry disagrees about the offset: ask it and continue from there.
          const status = await reg.uploadStatus(u.repo, s.location, u.signal);
          if (!status) throw new RegistryError(416, [], `blob upload to ${reg.domain}/${u.repo}: the registry rejected the chunk range and lost the session`);
          session = { ...status, ...(s.minChunk ? { minChunk: s.minChunk } : {}) };
        } else {
          session = next;
          if (session.offset > start + len) throw new RegistryError(500, [], `blob upload to ${reg.domain}/${u.repo}: the registry reports more bytes than were sent`);
        }
        await u.save(session);
        u.onProgress(session.offset);
      }
      try {
        await reg.finishUpload(u.repo, session, u.digest, undefined, u.signal);
      } catch (err) {
        const rejected = sessionRejection(err);
        if (rejected === undefined) throw err;
        // A session the registry will not close (DIGEST_INVALID, BLOB_UPLOAD_INVALID): kept, it
        // would fail every later push the same way. Drop it; when it was a saved one, send the
        // blob again from byte 0, once. From a fresh session the same answer is a real error.
        await reg.cancelUpload(u.repo, session);
        session = undefined;
        await u.save(undefined);
        if (!resumed) throw err;
        resumed = false;
        u.onProgress(0);
        u.onRestart?.(`upload session rejected by the registry (${rejected}): uploading again from the start`);
        continue;
      }
      await u.save(undefined);
      return;
    } catch (err) {
      if (err instanceof UploadInterrupted || u.signal?.aborted) throw err;
      // Network errors, timeouts, 5xx/429 (retry.ts): ask the registry where it got to, go on from there.
      // A body that failed because of its source is judged by the source's own error (the request
      // reports a network error of its own): a reset source is retried, a short one is final.
      await retrier.failed(reader.takeFailure() ?? err, session?.location ?? reg.base);
      await resync();
    }
  }
}
