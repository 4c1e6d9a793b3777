/**
 * Upload sessions: `uploads/<uuid>/data` holds the bytes received so far (its size is the
 * offset), `uploads/<uuid>/repo` the repository, `uploads/<uuid>/startedat` when it began
 * (RFC 3339, as docker-registry's `_uploads/<id>/startedat`). Chunks are checked against the
 * offset under a per-session lock, so out-of-order or overlapping `Content-Range` chunks get
 * 416. Abandoned sessions are purged by age ({@link Uploads.purge}); each client may hold a
 * bounded number open at once ({@link Uploads.create} with `owners`).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

/** What one purge run found and did. */
export interface PurgeResult {
  /** Sessions older than the age (removed unless dry run). */
  expired: string[];
  /** Sessions seen in all. */
  seen: number;
  errors: number;
}

/** Creates, appends to, inspects and ends upload sessions. */
export class Uploads {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Open sessions by owner key (`addr:<ip>`, `user:<name>`), for the per-client cap. */
  private readonly byOwner = new Map<string, Set<string>>();
  /** The owner keys of each session this process created. */
  private readonly owners = new Map<string, string[]>();
  /** When each counted session was last used (created, or named by a request). */
  private readonly lastUsed = new Map<string, number>();
  /**
   * @param idleMs a session unused this long stops counting against its client's cap (it stays
   *   on disk, resumable, until purged): a client whose pushes were cut off 64 times is not
   *   locked out for the purge age.
   */
  constructor(private readonly storage: RegistryStorage, private readonly idleMs = 15 * 60_000) {}

  private dataPath(uuid: string): string {
    return join(this.storage.uploadDir(uuid), 'data');
  }

  /**
   * Starts a session for `repo`, owned by `owners` (the client's keys). When one of them already
   * holds `cap` open sessions, nothing is created: 429 TOOMANYREQUESTS with `Retry-After`.
   */
  async create(repo: string, owners: string[] = [], cap = Infinity, now = Date.now()): Promise<UploadSession> {
    for (const o of owners) {
      for (const uuid of this.byOwner.get(o) ?? []) if (now - (this.lastUsed.get(uuid) ?? 0) > this.idleMs) this.forget(uuid);
    }
    for (const o of owners) {
      if ((this.byOwner.get(o)?.size ?? 0) >= cap) {
        throw new HttpError(429, 'TOOMANYREQUESTS', `too many open upload sessions for ${o.replace(/^\w+:/, '')} (at most ${cap}): finish or cancel one (DELETE its Location) first`, { limit: cap }, { 'Retry-After': '30' });
      }
    }
    const uuid = randomUUID();
    // Counted before the first await, so concurrent POSTs cannot overshoot the cap.
    for (const o of owners) {
      let set = this.byOwner.get(o);
      if (!set) this.byOwner.set(o, (set = new Set()));
      set.add(uuid);
    }
    this.owners.set(uuid, owners);
    this.lastUsed.set(uuid, now);
    try {
      const dir = this.storage.uploadDir(uuid);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'data'), '');
      await writeFile(join(dir, 'repo'), repo);
      await writeFile(join(dir, 'startedat'), new Date().toISOString());
    } catch (e) {
      this.forget(uuid);
      await rm(this.storage.uploadDir(uuid), { recursive: true, force: true });
      throw e;
    }
    return { uuid, repo, offset: 0 };
  }

  /** Drops a session from the per-client counts. */
  private forget(uuid: string): void {
    for (const o of this.owners.get(uuid) ?? []) {
      const set = this.byOwner.get(o);
      set?.delete(uuid);
      if (set?.size === 0) this.byOwner.delete(o);
    }
    this.owners.delete(uuid);
    this.lastUsed.delete(uuid);
  }

  /** When a session began: its `startedat`, else (older layouts) the folder's mtime; undefined when unreadable. */
  private async startedAt(uuid: string): Promise<number | undefined> {
    const dir = this.storage.uploadDir(uuid);
    const text = await readFile(join(dir, 'startedat'), 'utf8').catch(() => undefined);
    const t = text === undefined ? NaN : Date.parse(text.trim());
    if (!Number.isNaN(t)) return t;
    return (await stat(dir).catch(() => undefined))?.mtimeMs;
  }

  /**
   * docker-registry's upload purging (`storage.maintenance.uploadpurging`): removes every session
   * that began more than `ageMs` ago, or with `dryRun` only lists them. A session a request is
   * using right now is left for the next run.
   */
  async purge(ageMs: number, dryRun: boolean, now = Date.now()): Promise<PurgeResult> {
    const result: PurgeResult = { expired: [], seen: 0, errors: 0 };
    const names = await readdir(join(this.storage.root, 'uploads')).catch(() => [] as string[]);
    for (const uuid of names) {
      result.seen++;
      const started = await this.startedAt(uuid);
      if (started === undefined) {
        result.errors++;
        continue;
      }
      if (now - started <= ageMs || this.locks.has(uuid)) continue;
      result.expired.push(uuid);
      if (dryRun) continue;
      try {
        await this.remove(uuid);
      } catch {
        result.errors++;
      }
    }
    return result;
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
    if (this.owners.has(uuid)) this.lastUsed.set(uuid, Date.now());
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
    this.forget(uuid);
    await rm(this.storage.uploadDir(uuid), { recursive: true, force: true });
  }
}

/** The `Range` header value for an upload at `offset` (docker-registry's form: `0-<last byte>`, `0-0` when empty). */
export function rangeHeader(offset: number): string {
  return `0-${offset > 0 ? offset - 1 : 0}`;
}
