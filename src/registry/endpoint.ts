/**
 * A registry repository as a copy endpoint. As a source it serves verified manifests and ranged
 * blob reads. As a destination it runs docker's push ladder per blob: HEAD (exists), a
 * cross-repository mount from a repository of the same registry known to have the blob (the
 * copy's source, or one the store recorded), else a chunked, resumable upload that streams from
 * whatever the source is (the store's files, another registry's Range GETs).
 */
import type { Descriptor } from '../image/descriptor.js';
import { shortId } from '../image/digest.js';
import type { BlobRead, BlobReader, ImageDestination, ImageSource } from '../image/endpoint.js';
import type { Sidecars } from '../store/sidecars.js';
import type { CopyListener } from '../image/progress.js';
import { retryingEvent } from '../image/progress.js';
import type { RegistryClient } from './client.js';
import { listReferrers, pushReferrer, referrerInfo } from './referrers.js';
import { uploadBlob } from './upload.js';

/** One repository of a registry, read side. */
export class RegistrySource implements ImageSource {
  /**
   * The source for `ref` (a tag or digest) of `repo`, and the root it names: the manifest is
   * fetched once, verified, and served from memory to the copy.
   */
  static async open(reg: RegistryClient, repo: string, ref: string, signal?: AbortSignal): Promise<{ source: RegistrySource; root: Descriptor }> {
    const m = await reg.getManifest(repo, ref, signal);
    return { source: new RegistrySource(reg, repo, signal, new Map([[m.digest, m.bytes]])), root: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } };
  }

  /** `known`: manifests already fetched (the root, got by tag), served without asking again. */
  constructor(
    readonly reg: RegistryClient,
    readonly repo: string,
    private readonly signal?: AbortSignal,
    private readonly known: ReadonlyMap<string, Buffer> = new Map(),
  ) {}

  /** A manifest by digest, its bytes verified. */
  async manifest(d: Descriptor): Promise<Buffer> {
    return this.known.get(d.digest) ?? (await this.reg.getManifest(this.repo, d.digest, this.signal)).bytes;
  }

  /** A blob from `offset` (a Range request). */
  blob(d: Descriptor, offset: number, signal?: AbortSignal): Promise<BlobRead> {
    return this.reg.getBlob(this.repo, d.digest, offset, signal ?? this.signal);
  }

  /** The manifests whose subject is `d`: the referrers API, else the tag schema (registry/referrers.ts). */
  async referrers(d: Descriptor): Promise<Descriptor[]> {
    return (await listReferrers(this.reg, this.repo, d, { signal: this.signal })).descriptors;
  }
}

/** Options of the registry destination. */
export interface RegistryDestinationOptions {
  chunkSize: number;
  /** Chunks may grow up to this size while each takes under two seconds (see uploadBlob). */
  growChunksTo?: number | undefined;
  /** The store's records: saved upload sessions, upload claims, repositories known to hold a blob. */
  sidecars: Sidecars;
  /** Other repositories of this registry that have the copy's blobs (a copy's source repository). */
  mountFrom?: readonly string[] | undefined;
  onEvent?: CopyListener | undefined;
  signal?: AbortSignal | undefined;
  stopping?: () => boolean;
}

/** One repository of a registry, write side. */
export class RegistryDestination implements ImageDestination {
  constructor(private readonly reg: RegistryClient, private readonly repo: string, private readonly opts: RegistryDestinationOptions) {}

  /** `HEAD` the blob. */
  async has(d: Descriptor): Promise<boolean> {
    return (await this.reg.blobSize(this.repo, d.digest, true, this.opts.signal)) !== undefined;
  }

  /** Mounts the blob from another repository of this registry that has it; the repository, or undefined. */
  async mount(d: Descriptor): Promise<string | undefined> {
    const { reg, repo, opts } = this;
    const known = (await opts.sidecars.blobSources(d.digest)).filter((k) => k.domain === reg.domain).map((k) => k.repo);
    for (const from of new Set([...(opts.mountFrom ?? []), ...known])) {
      if (from === repo) continue;
      const mounted = await reg.mount(repo, d.digest, from, opts.signal).catch(() => undefined);
      if (mounted === true) {
        await opts.sidecars.addBlobSource(d.digest, { domain: reg.domain, repo });
        return from;
      }
      // The registry opened an upload session instead of mounting: let it go, upload below.
      if (mounted) await reg.cancelUpload(repo, mounted);
    }
    return undefined;
  }

  /** Uploads one blob in chunks, resuming the session saved for it; another push of this store may bring it meanwhile. */
  async put(d: Descriptor, read: BlobReader, progress: (done: number) => void): Promise<'transferred' | 'exists'> {
    const { reg, repo, opts } = this;
    return opts.sidecars.claimUpload(reg.domain, repo, d.digest, opts.signal, async (waited) => {
      // Another push from this store had the blob: it is usually in the registry now.
      if (waited && (await this.has(d))) return 'exists';
      await this.upload(d, read, progress);
      return 'transferred';
    });
  }

  private async upload(d: Descriptor, read: BlobReader, progress: (done: number) => void): Promise<void> {
    const { reg, repo, opts } = this;
    const saved = await opts.sidecars.session(reg.domain, repo, d.digest);
    await uploadBlob(reg, {
      repo,
      digest: d.digest,
      size: d.size,
      read,
      chunkSize: opts.chunkSize,
      growTo: opts.growChunksTo,
      resume: saved,
      save: (s) => opts.sidecars.saveSession(reg.domain, repo, d.digest, s && { location: s.location, offset: s.offset, ...(s.minChunk ? { minChunk: s.minChunk } : {}) }),
      onProgress: progress,
      onRetry: (e) => opts.onEvent?.(retryingEvent(e)),
      onRestart: (reason) => opts.onEvent?.({ type: 'restarted', id: shortId(d.digest), reason }),
      signal: opts.signal,
      ...(opts.stopping ? { stopping: opts.stopping } : {}),
    });
    await opts.sidecars.addBlobSource(d.digest, { domain: reg.domain, repo });
  }

  /** True when every name (tag) already points at `root`: one HEAD per name. */
  async upToDate(root: Descriptor, names: string[]): Promise<boolean> {
    for (const ref of names.length > 0 ? names : [root.digest]) {
      if ((await this.reg.manifestDigest(this.repo, ref, true, this.opts.signal)) !== root.digest) return false;
    }
    return true;
  }

  /**
   * Puts a manifest under each name (tag), or by digest. A referrer (a manifest with a `subject`)
   * put by digest is listed the way this registry supports: by the registry itself when it
   * answers with `OCI-Subject`, else in the subject's tag-schema index (`sha256-<hex>`).
   */
  async putManifest(d: Descriptor, bytes: Buffer, names: string[]): Promise<void> {
    const subject = names.length === 0 ? referrerInfo(bytes).subject : undefined;
    if (subject) {
      await pushReferrer(this.reg, this.repo, subject, { descriptor: d, bytes }, this.opts.signal);
      return;
    }
    for (const ref of names.length > 0 ? names : [d.digest]) await this.reg.putManifest(this.repo, ref, bytes, d.mediaType, this.opts.signal);
  }
}
