/**
 * The built-in registry's storage on disk, its own layout under the server root:
 *
 * ```
 * blobs/sha256/<hex>                              content (blobs and manifests), written temp + rename
 * uploads/<uuid>/data, uploads/<uuid>/repo        upload sessions (the data file's size is the offset)
 * repositories/<name>/_layers/<hex>               "this repository may read blob <hex>"
 * repositories/<name>/_manifests/revisions/<hex>  a manifest of this repository: {"mediaType","size"}
 * repositories/<name>/_manifests/tags/<tag>       the digest a tag names, written atomically
 * tmp/                                            temp files (same file system, so rename is atomic)
 * ```
 * A blob file only ever appears complete and verified under its digest; a kill at any moment
 * leaves at most a stray temp file or an upload session.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestingStream, type Digest, hexOf } from '../image/digest.js';

/** A manifest revision's metadata. */
export interface RevisionInfo {
  mediaType: string;
  size: number;
}

/** The on-disk store of one registry server. */
export class RegistryStorage {
  constructor(readonly root: string) {}

  /** Creates the top folders. */
  async init(): Promise<void> {
    for (const d of ['blobs/sha256', 'uploads', 'repositories', 'tmp']) await mkdir(join(this.root, d), { recursive: true });
  }

  blobPath(d: Digest): string {
    return join(this.root, 'blobs', 'sha256', hexOf(d));
  }
  private repoDir(name: string): string {
    return join(this.root, 'repositories', ...name.split('/'));
  }
  private layerLink(name: string, d: Digest): string {
    return join(this.repoDir(name), '_layers', hexOf(d));
  }
  private revisionLink(name: string, d: Digest): string {
    return join(this.repoDir(name), '_manifests', 'revisions', hexOf(d));
  }
  private tagsDir(name: string): string {
    return join(this.repoDir(name), '_manifests', 'tags');
  }
  uploadDir(uuid: string): string {
    return join(this.root, 'uploads', uuid);
  }

  /** A fresh temp path under `tmp/`. */
  tempPath(): string {
    return join(this.root, 'tmp', randomUUID());
  }

  /** Writes `data` to a temp file and renames it over `path`. */
  async atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
    const tmp = this.tempPath();
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await mkdir(join(path, '..'), { recursive: true });
    await rename(tmp, path);
  }

  /** Size of the stored blob, or undefined. */
  async blobSize(d: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(d))).size;
    } catch {
      return undefined;
    }
  }

  /** True when blob `d` exists and is linked into repository `name`. */
  async hasLayer(name: string, d: Digest): Promise<boolean> {
    return (await exists(this.layerLink(name, d))) && (await this.blobSize(d)) !== undefined;
  }

  /** Links an existing blob into a repository. */
  async linkLayer(name: string, d: Digest): Promise<void> {
    await mkdir(join(this.repoDir(name), '_layers'), { recursive: true });
    await writeFile(this.layerLink(name, d), '');
  }

  /** Removes a blob's link from a repository; false when it was not linked. */
  async unlinkLayer(name: string, d: Digest): Promise<boolean> {
    if (!(await exists(this.layerLink(name, d)))) return false;
    await rm(this.layerLink(name, d), { force: true });
    return true;
  }

  /** Moves a verified file at `from` into place as blob `d` (a no-op when the blob is there already). */
  async commitBlob(from: string, d: Digest): Promise<void> {
    if ((await this.blobSize(d)) !== undefined) {
      await rm(from, { force: true });
      return;
    }
    await rename(from, this.blobPath(d));
  }

  /** Streams `body` to a temp file, returning its path, digest and size. */
  async receive(body: Readable): Promise<{ path: string; digest: Digest; size: number }> {
    const path = this.tempPath();
    const hasher = new DigestingStream();
    try {
      await pipeline(body, hasher, createWriteStream(path));
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
    return { path, digest: hasher.digest(), size: hasher.size };
  }

  /** Digest and size of a file on disk. */
  async hashFile(path: string): Promise<{ digest: Digest; size: number }> {
    const hasher = new DigestingStream();
    await pipeline(createReadStream(path), hasher, async function* (src) {
      for await (const _ of src) void _;
    });
    return { digest: hasher.digest(), size: hasher.size };
  }

  /** Stores manifest bytes as a blob and records the revision in the repository. */
  async putManifest(name: string, d: Digest, bytes: Buffer, mediaType: string): Promise<void> {
    if ((await this.blobSize(d)) === undefined) await this.atomicWrite(this.blobPath(d), bytes);
    await this.atomicWrite(this.revisionLink(name, d), JSON.stringify({ mediaType, size: bytes.length } satisfies RevisionInfo));
  }

  /** A manifest revision of the repository, or undefined. */
  async revision(name: string, d: Digest): Promise<RevisionInfo | undefined> {
    try {
      const info = JSON.parse(await readFile(this.revisionLink(name, d), 'utf8')) as RevisionInfo;
      if ((await this.blobSize(d)) === undefined) return undefined;
      return info;
    } catch {
      return undefined;
    }
  }

  /** All manifest digests of a repository. */
  async revisions(name: string): Promise<Digest[]> {
    const dir = join(this.repoDir(name), '_manifests', 'revisions');
    return (await list(dir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((h) => `sha256:${h}` as Digest);
  }

  /** Removes a manifest revision and every tag that points at it; false when unknown. */
  async deleteManifest(name: string, d: Digest): Promise<boolean> {
    if (!(await this.revision(name, d))) return false;
    for (const t of await this.tags(name)) if ((await this.tag(name, t)) === d) await rm(join(this.tagsDir(name), t), { force: true });
    await rm(this.revisionLink(name, d), { force: true });
    return true;
  }

  /** Points a tag at a manifest digest (atomically). */
  async setTag(name: string, tag: string, d: Digest): Promise<void> {
    await this.atomicWrite(join(this.tagsDir(name), tag), d);
  }

  /** The digest a tag names, or undefined. */
  async tag(name: string, tag: string): Promise<Digest | undefined> {
    try {
      return (await readFile(join(this.tagsDir(name), tag), 'utf8')).trim() as Digest;
    } catch {
      return undefined;
    }
  }

  /** Removes a tag; false when it did not exist. */
  async deleteTag(name: string, tag: string): Promise<boolean> {
    if ((await this.tag(name, tag)) === undefined) return false;
    await rm(join(this.tagsDir(name), tag), { force: true });
    return true;
  }

  /** The tags of a repository, sorted. */
  async tags(name: string): Promise<string[]> {
    return (await list(this.tagsDir(name))).sort();
  }

  /** True when the repository has any layer link or manifest. */
  async repoExists(name: string): Promise<boolean> {
    return exists(this.repoDir(name));
  }

  /** Every repository name (a folder holding `_manifests`), sorted. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const n of await list(dir)) {
        if (n === '_manifests') out.push(prefix);
        else if (!n.startsWith('_')) await walk(join(dir, n), prefix ? `${prefix}/${n}` : n);
      }
    };
    await walk(join(this.root, 'repositories'), '');
    return out.filter(Boolean).sort();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
