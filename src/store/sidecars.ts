/**
 * Small sidecar records beside the layout (never inside `blobs/`): upload sessions to resume,
 * partial downloads, and which repositories a blob is known to live in (for cross-repository
 * mounts). All of them are hints: losing one costs time, never correctness.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../image/digest.js';
import { hexOf } from '../image/digest.js';
import { writeFileAtomicSync } from './atomic-write.js';
import type { StoreLayout } from './layout.js';
import { markPartialOwner, partialDir, sweepOnce } from './leftovers.js';
import { withLock } from './lock.js';

/** A saved upload session. */
export interface SavedSession {
  location: string;
  offset: number;
  minChunk?: number;
}

/** Where a blob was seen: registry domain and repository path. */
export interface BlobSource {
  domain: string;
  repo: string;
}

function key(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
}

/**
 * Reads and writes the sidecars of one store. These records are a few hundred bytes, written
 * once per blob (64 times for a 64-layer pull): the file operations are synchronous, which costs
 * microseconds where a trip through the thread pool per operation cost milliseconds.
 */
export class Sidecars {
  private readonly made = new Set<string>();

  constructor(private readonly layout: StoreLayout) {}

  private get uploads(): string { return join(this.layout.root, 'uploads'); }
  private get sources(): string { return join(this.layout.root, 'sources'); }
  private get partials(): string { return partialDir(this.layout); }

  /** Creates a sidecar folder once per instance. */
  private dir(path: string): string {
    if (!this.made.has(path)) {
      mkdirSync(path, { recursive: true });
      this.made.add(path);
    }
    return path;
  }

  private readJson<T>(path: string): T | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** The upload session saved for a blob pushed to a repository. */
  async session(domain: string, repo: string, digest: Digest): Promise<SavedSession | undefined> {
    return this.readJson<SavedSession>(join(this.uploads, key(domain, repo, digest)));
  }

  /** Saves (or with undefined, forgets) the upload session of a blob. */
  async saveSession(domain: string, repo: string, digest: Digest, s: SavedSession | undefined): Promise<void> {
    const path = join(this.uploads, key(domain, repo, digest));
    if (!s) {
      rmSync(path, { force: true });
      return;
    }
    this.dir(this.uploads);
    writeFileAtomicSync(path, JSON.stringify(s), false);
  }

  /** Repositories a blob is known to be in. */
  async blobSources(digest: Digest): Promise<BlobSource[]> {
    return this.readJson<BlobSource[]>(join(this.sources, hexOf(digest))) ?? [];
  }

  /** Records that a blob lives in a repository (after a pull or a push). */
  async addBlobSource(digest: Digest, src: BlobSource): Promise<void> {
    const list = await this.blobSources(digest);
    if (list.some((s) => s.domain === src.domain && s.repo === src.repo)) return;
    writeFileAtomicSync(join(this.dir(this.sources), hexOf(digest)), JSON.stringify([...list.slice(-15), src]), false);
  }

  /**
   * Runs `fn` as the only process of this store pushing `digest` to `domain/repo`: two pushes of
   * one image (two CI jobs on one store) would otherwise PATCH the same saved session at once.
   * The second waits, told it waited: the blob is then usually in the registry.
   */
  claimUpload<T>(domain: string, repo: string, digest: Digest, signal: AbortSignal | undefined, fn: (waited: boolean) => Promise<T>): Promise<T> {
    sweepOnce(this.layout);
    return withLock(join(this.dir(this.uploads), `${key(domain, repo, digest)}.lock`), fn, { timeoutMs: Infinity, signal });
  }

  /**
   * Runs `fn` as the only process of this store writing the partial download of `digest` (see
   * {@link claimUpload}). The claim is a stale-proof lock (lock.ts): one left by a killed pull is
   * broken. The partial is marked as this process's until its commit moves it, so `image prune`
   * leaves a download that is finished but not yet committed alone (leftovers.ts).
   */
  claimPartial<T>(digest: Digest, signal: AbortSignal | undefined, fn: (waited: boolean) => Promise<T>): Promise<T> {
    sweepOnce(this.layout);
    const path = join(this.dir(this.partials), hexOf(digest));
    return withLock(`${path}.lock`, (waited) => {
      markPartialOwner(path);
      return fn(waited);
    }, { timeoutMs: Infinity, signal });
  }

  /** The path of a blob's partial download and how much it holds. */
  async partial(digest: Digest): Promise<{ path: string; size: number }> {
    const path = join(this.dir(this.partials), hexOf(digest));
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return { path, size };
  }

  /** Cuts a partial download back (to 0: start over). */
  async resetPartial(path: string, size = 0): Promise<void> {
    await truncate(path, size).catch(() => undefined);
  }
}
