/**
 * A registry repository as a copy endpoint. As a source it serves verified manifests and
 * ranged blob reads. As a sink it runs docker's push ladder per blob: HEAD (exists), a
 * cross-repository mount when the store knows another repository on this registry that has
 * the blob, else a chunked, resumable upload.
 */
import type { Readable } from 'node:stream';
import { InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { shortId } from '../image/digest.js';
import type { BlobOutcome, ImageSink, ImageSource } from '../image/endpoint.js';
import type { RegistryClient } from '../registry/client.js';
import { uploadBlob } from '../registry/upload.js';
import type { Sidecars } from '../store/sidecars.js';
import type { CopyListener } from './events.js';

/** One repository of a registry, read side. */
export class RegistrySource implements ImageSource {
  /** `known`: manifests already fetched (the root, got by tag), served without asking again. */
  constructor(
    private readonly reg: RegistryClient,
    private readonly repo: string,
    private readonly signal?: AbortSignal,
    private readonly known: ReadonlyMap<string, Buffer> = new Map(),
  ) {}

  /** A manifest by digest, its bytes verified. */
  async manifest(d: Descriptor): Promise<Buffer> {
    return this.known.get(d.digest) ?? (await this.reg.getManifest(this.repo, d.digest, this.signal)).bytes;
  }

  /** A blob from `offset` (a Range request). */
  blob(d: Descriptor, offset: number, signal?: AbortSignal): Promise<{ stream: Readable; resumed: boolean }> {
    return this.reg.getBlob(this.repo, d.digest, offset, signal ?? this.signal);
  }
}

/** Options of the registry sink. */
export interface RegistrySinkOptions {
  chunkSize: number;
  /** Chunks may grow up to this size while each takes under two seconds (see uploadBlob). */
  growChunksTo?: number | undefined;
  sidecars: Sidecars;
  onEvent?: CopyListener | undefined;
  signal?: AbortSignal | undefined;
  stopping?: () => boolean;
}

/** One repository of a registry, write side. */
export class RegistrySink implements ImageSink {
  constructor(private readonly reg: RegistryClient, private readonly repo: string, private readonly opts: RegistrySinkOptions) {}

  /** Skips, mounts or uploads one blob. */
  async blob(d: Descriptor, source: ImageSource, progress: (done: number) => void): Promise<BlobOutcome> {
    const { reg, repo, opts } = this;
    if ((await reg.blobSize(repo, d.digest, true, opts.signal)) !== undefined) return { kind: 'exists' };
    const src = { domain: reg.domain, repo };
    for (const known of await opts.sidecars.blobSources(d.digest)) {
      if (known.domain !== reg.domain || known.repo === repo) continue;
      const mounted = await reg.mount(repo, d.digest, known.repo, opts.signal).catch(() => undefined);
      if (mounted === true) {
        await opts.sidecars.addBlobSource(d.digest, src);
        return { kind: 'mounted', from: known.repo };
      }
      // The registry opened an upload session instead of mounting: let it go, upload below.
      if (mounted) await reg.cancelUpload(repo, mounted);
    }
    const open = source.open?.bind(source);
    if (!open) throw new InvalidContentError('chunked upload needs a local source');
    return opts.sidecars.claimUpload(reg.domain, repo, d.digest, opts.signal, async (waited) => {
      // Another push from this store had the blob: it is usually in the registry now.
      if (waited && (await reg.blobSize(repo, d.digest, true, opts.signal)) !== undefined) return { kind: 'exists' };
      return this.upload(d, open, progress);
    });
  }

  /** Uploads one blob in chunks, resuming the session saved for it. */
  private async upload(d: Descriptor, open: NonNullable<ImageSource['open']>, progress: (done: number) => void): Promise<BlobOutcome> {
    const { reg, repo, opts } = this;
    const src = { domain: reg.domain, repo };
    const saved = await opts.sidecars.session(reg.domain, repo, d.digest);
    await uploadBlob(reg, {
      repo,
      digest: d.digest,
      size: d.size,
      open: (start, end) => open(d, start, end),
      chunkSize: opts.chunkSize,
      growTo: opts.growChunksTo,
      resume: saved,
      save: (s) => opts.sidecars.saveSession(reg.domain, repo, d.digest, s && { location: s.location, offset: s.offset, ...(s.minChunk ? { minChunk: s.minChunk } : {}) }),
      onProgress: progress,
      onRetry: (e) => opts.onEvent?.({ type: 'retry', attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }),
      onRestart: (reason) => opts.onEvent?.({ type: 'message', text: `${shortId(d.digest)}: ${reason}` }),
      signal: opts.signal,
      ...(opts.stopping ? { stopping: opts.stopping } : {}),
    });
    await opts.sidecars.addBlobSource(d.digest, src);
    return { kind: 'transferred' };
  }

  /** Puts a manifest by tag (the root) or by digest. */
  async manifest(d: Descriptor, bytes: Buffer, tag?: string): Promise<void> {
    await this.reg.putManifest(this.repo, tag ?? d.digest, bytes, d.mediaType, this.opts.signal);
  }
}
