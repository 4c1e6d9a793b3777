/**
 * Upload sessions: `uploads/<uuid>/data` holds the bytes received so far (its size is the
 * offset), `uploads/<uuid>/repo` the repository. Chunks are checked against the offset under a
 * per-session lock, so out-of-order or overlapping `Content-Range` chunks get 416.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError } from './errors.js';
import type { RegistryStorage } from './storage.js';

/** An open upload session. */
export interface UploadSession {
  uuid: string;
  repo: string;
  /** Bytes received so far. */
  offset: number;
}

const UUID_RE = /^[a-f0-9-]{36}$/;

/** Creates, appends to, inspects and ends upload sessions. */
export class Uploads {
  private readonly locks = new Map<string, Promise<unknown>>();
  constructor(private readonly storage: RegistryStorage) {}

  private dataPath(uuid: string): string {
    return join(this.storage.uploadDir(uuid), 'data');
  }

  /** Starts a session for `repo`. */
  async create(repo: string): Promise<UploadSession> {
    const uuid = randomUUID();
    const dir = this.storage.uploadDir(uuid);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data'), '');
    await writeFile(join(dir, 'repo'), repo);
    return { uuid, repo, offset: 0 };
  }

  /** The session, or a 404 BLOB_UPLOAD_UNKNOWN when it does not exist in this repository. */
  async get(repo: string, uuid: string): Promise<UploadSession> {
    const unknown = new HttpError(404, 'BLOB_UPLOAD_UNKNOWN');
    if (!UUID_RE.test(uuid)) throw unknown;
    let owner: string;
    let offset: number;
    try {
      owner = await readFile(join(this.storage.uploadDir(uuid), 'repo'), 'utf8');
      offset = (await stat(this.dataPath(uuid))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw unknown;
      throw e;
    }
    if (owner !== repo) throw unknown;
    return { uuid, repo, offset };
  }

  /** Runs `fn` with the session locked against other requests to it. */
  async locked<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uuid) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(uuid, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(uuid) === tail) this.locks.delete(uuid);
    }
  }

  /**
   * Appends `body` at the session's offset. With `range` (from `Content-Range`), the chunk must
   * start exactly at the offset (else 416 with the current `Range`).
   */
  async append(s: UploadSession, body: Readable, range: { start: number; end: number } | undefined, headers: (offset: number) => Record<string, string>): Promise<UploadSession> {
    if (range && range.start !== s.offset) {
      body.resume();
      throw new HttpError(416, 'RANGE_INVALID', `chunk starts at ${range.start}, the upload is at ${s.offset}`, undefined, headers(s.offset));
    }
    await pipeline(body, createWriteStream(this.dataPath(s.uuid), { flags: 'a' }));
    return { ...s, offset: (await stat(this.dataPath(s.uuid))).size };
  }

  /** The data file of the session (for hashing and commit). */
  data(s: UploadSession): string {
    return this.dataPath(s.uuid);
  }

  /** Removes a session. */
  async remove(uuid: string): Promise<void> {
    await rm(this.storage.uploadDir(uuid), { recursive: true, force: true });
  }
}

/** The `Range` header value for an upload at `offset` (docker-registry's form: `0-<last byte>`, `0-0` when empty). */
export function rangeHeader(offset: number): string {
  return `0-${offset > 0 ? offset - 1 : 0}`;
}
