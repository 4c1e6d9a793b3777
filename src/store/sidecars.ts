/**
 * Small sidecar records beside the layout (never inside `blobs/`): upload sessions to resume,
 * partial downloads, and which repositories a blob is known to live in (for cross-repository
 * mounts). All of them are hints: losing one costs time, never correctness.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../image/digest.js';
import { hexOf } from '../image/digest.js';
import { writeFileAtomic } from './atomic-write.js';
import type { StoreLayout } from './layout.js';

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

/** Reads and writes the sidecars of one store. */
export class Sidecars {
  constructor(private readonly layout: StoreLayout) {}

  private get uploads(): string { return join(this.layout.root, 'uploads'); }
  private get sources(): string { return join(this.layout.root, 'sources'); }
  private get partials(): string { return join(this.layout.ingestDir, 'partial'); }

  /** The upload session saved for a blob pushed to a repository. */
  async session(domain: string, repo: string, digest: Digest): Promise<SavedSession | undefined> {
    try {
      return JSON.parse(await readFile(join(this.uploads, key(domain, repo, digest)), 'utf8')) as SavedSession;
    } catch {
      return undefined;
    }
  }

  /** Saves (or with undefined, forgets) the upload session of a blob. */
  async saveSession(domain: string, repo: string, digest: Digest, s: SavedSession | undefined): Promise<void> {
    const path = join(this.uploads, key(domain, repo, digest));
    if (!s) {
      await rm(path, { force: true });
      return;
    }
    await mkdir(this.uploads, { recursive: true });
    await writeFileAtomic(path, JSON.stringify(s), false);
  }

  /** Repositories a blob is known to be in. */
  async blobSources(digest: Digest): Promise<BlobSource[]> {
    try {
      return JSON.parse(await readFile(join(this.sources, hexOf(digest)), 'utf8')) as BlobSource[];
    } catch {
      return [];
    }
  }

  /** Records that a blob lives in a repository (after a pull or a push). */
  async addBlobSource(digest: Digest, src: BlobSource): Promise<void> {
    const list = await this.blobSources(digest);
    if (list.some((s) => s.domain === src.domain && s.repo === src.repo)) return;
    await mkdir(this.sources, { recursive: true });
    await writeFileAtomic(join(this.sources, hexOf(digest)), JSON.stringify([...list.slice(-15), src]), false);
  }

  /** The path of a blob's partial download, created empty if missing, and how much it holds. */
  async partial(digest: Digest): Promise<{ path: string; size: number }> {
    await mkdir(this.partials, { recursive: true });
    const path = join(this.partials, hexOf(digest));
    const size = await stat(path).then((s) => s.size, () => 0);
    return { path, size };
  }

  /** Cuts a partial download back (to 0: start over). */
  async resetPartial(path: string, size = 0): Promise<void> {
    await truncate(path, size).catch(() => undefined);
  }
}
