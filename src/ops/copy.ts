/**
 * `copy SRC DST`: one image (every platform of it by default) from any endpoint to any other,
 * through the one copy pipeline, with its referrers (signatures, SBOMs) where the source lists
 * them. A copy within one registry mounts blobs instead of moving them; a copy whose destination
 * already holds the root under the name is `up to date` after one HEAD.
 */
import { copyImages } from '../copy/copy.js';
import type { CopyListener } from '../image/progress.js';
import type { Location } from '../copy/locations.js';
import { parseLocation } from '../copy/locations.js';
import { InvalidArgumentError } from '../errors.js';
import type { Descriptor, Platform } from '../image/descriptor.js';
import type { ImageDestination, ImageSource } from '../image/endpoint.js';
import { hostPlatform } from '../image/platform.js';
import { parseDockerRef } from '../reference/index.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryDestination, RegistrySource } from '../registry/endpoint.js';
import { StoreDestination, StoreSource } from '../store/endpoint.js';
import { exportRoot, imageLabel } from '../store/images.js';
import { Sidecars } from '../store/sidecars.js';
import type { Store } from '../store/store.js';
import type { Transport } from '../transport/transport.js';
import { openArchiveDestination, openArchiveSource } from './copy-archives.js';
import { notFound } from './pull.js';

/** Options of `copy`. */
export interface CopyCommandOptions {
  /** One platform of an index (its manifest becomes the copy); every platform when absent. */
  platform?: Platform | undefined;
  /** Every platform, said explicitly (the default except into the store, which keeps one). */
  all?: boolean | undefined;
  /** Copy the manifests whose subject is the copied one (default true). */
  referrers?: boolean | undefined;
  concurrency: number;
  /** Upload chunks (registry destinations): the first size, and how far they may grow. */
  chunkSize: number;
  growChunksTo?: number | undefined;
  insecure?: readonly string[];
  onEvent?: CopyListener;
  signal?: AbortSignal;
  stopping?: () => boolean;
}

/** A source opened for copying: the endpoint and the root to copy. */
export interface OpenedSource {
  source: ImageSource;
  root: Descriptor;
  /** The name the source knew the image by (an archive's RepoTags), used when the destination names none. */
  name?: string | undefined;
  close?(): Promise<void>;
}

/** What copy did. */
export interface CopyOutcome {
  digest: string;
  upToDate: boolean;
  referrers: number;
}

/** Copies SRC to DST (see the module comment). */
export async function copy(store: Store, transport: Transport, src: string, dst: string, opts: CopyCommandOptions): Promise<CopyOutcome> {
  const from = parseLocation(src);
  const to = parseLocation(dst);
  if (opts.all && to.kind === 'store') throw new InvalidArgumentError('the store keeps one platform per name: copy into it with --platform (default: this machine\'s)');
  if (to.kind === 'registry' && to.ref.digest) throw new InvalidArgumentError(`invalid destination "${dst}": a destination names a tag, not a digest`);
  const opened = await openSource(store, transport, from, opts);
  try {
    const retag = await remoteRetag(store, from, to, opened, opts);
    if (retag) return retag;
    // The store keeps one platform per name (README, "Multi-platform images"): this machine's unless told.
    const platform = opts.platform ?? (to.kind === 'store' ? hostPlatform() : undefined);
    const { dest, names } = await openDestination(store, transport, from, to, opened, opts);
    const emit = opts.onEvent ?? (() => undefined);
    const [result] = await copyImages(opened.source, dest, [{ root: opened.root, names }], {
      // Into the store, an index stays the image with this one platform present (as pull keeps it).
      platform, keepIndex: to.kind === 'store', concurrency: opts.concurrency, onEvent: emit, retry: transport.retryPolicy, skipUpToDate: true, artifacts: to.kind !== 'store',
      // The store keeps runnable images only (as docker): referrers are not copied into it.
      referrers: opts.referrers !== false && to.kind !== 'store',
    });
    emit({ type: 'copied', source: from.text, destination: to.text, digest: result!.target.digest, upToDate: result!.upToDate });
    return { digest: result!.target.digest, upToDate: result!.upToDate, referrers: result!.referrers };
  } finally {
    await opened.close?.();
  }
}

/**
 * A copy to another tag of the same repository (the remote retag): every blob and child manifest
 * is there by definition, so the root's bytes are put under the new tag (one GET, one PUT), and
 * its referrers already point at it. Undefined when this is not such a copy.
 */
async function remoteRetag(store: Store, from: Location, to: Location, opened: OpenedSource, opts: CopyCommandOptions): Promise<CopyOutcome | undefined> {
  if (from.kind !== 'registry' || to.kind !== 'registry' || from.ref.domain !== to.ref.domain || from.ref.path !== to.ref.path || opts.platform) return undefined;
  const source = opened.source as RegistrySource;
  const tag = to.ref.tag ?? 'latest';
  const emit = opts.onEvent ?? (() => undefined);
  const dest = new RegistryDestination(source.reg, to.ref.path, { chunkSize: opts.chunkSize, sidecars: new Sidecars(store.layout), signal: opts.signal });
  const upToDate = await dest.upToDate(opened.root, [tag]);
  if (!upToDate) await dest.putManifest(opened.root, await source.manifest(opened.root), [tag]);
  emit({ type: 'copied', source: from.text, destination: to.text, digest: opened.root.digest, upToDate });
  return { digest: opened.root.digest, upToDate, referrers: 0 };
}

async function openSource(store: Store, transport: Transport, loc: Location, opts: CopyCommandOptions): Promise<OpenedSource> {
  switch (loc.kind) {
    case 'registry': {
      const reg = new RegistryClient(loc.ref.domain, transport, opts.insecure);
      await reg.ping(opts.signal);
      const { source, root } = await RegistrySource.open(reg, loc.ref.path, loc.ref.digest ?? loc.ref.tag ?? 'latest', opts.signal).catch(notFound(loc.ref));
      return { source, root, name: loc.ref.full };
    }
    case 'store': {
      const found = await store.find(loc.name);
      // A multi-platform image goes whole (every platform in the store) or, with --platform, as that platform's manifest.
      const root = exportRoot(found.record, opts.platform, imageLabel(found.name ? { names: [found.name], id: found.record.id } : found.record), 'copy');
      return { source: new StoreSource(store), root, name: found.name };
    }
    default:
      return openArchiveSource(loc);
  }
}

async function openDestination(store: Store, transport: Transport, from: Location, to: Location, opened: OpenedSource, opts: CopyCommandOptions): Promise<{ dest: ImageDestination; names: string[] }> {
  switch (to.kind) {
    case 'registry': {
      const reg = new RegistryClient(to.ref.domain, transport, opts.insecure);
      await reg.ping(opts.signal);
      // Within one registry, every blob can be mounted from the source repository.
      const mountFrom = from.kind === 'registry' && from.ref.domain === to.ref.domain ? [from.ref.path] : [];
      const dest = new RegistryDestination(reg, to.ref.path, {
        chunkSize: opts.chunkSize, growChunksTo: opts.growChunksTo, sidecars: new Sidecars(store.layout), mountFrom, onEvent: opts.onEvent, signal: opts.signal,
        ...(opts.stopping ? { stopping: opts.stopping } : {}),
      });
      return { dest, names: [to.ref.tag ?? 'latest'] };
    }
    case 'store': {
      const origin = from.kind === 'registry' ? { domain: from.ref.domain, repo: from.ref.path } : undefined;
      return { dest: new StoreDestination(store, { onEvent: opts.onEvent, signal: opts.signal, origin, retry: transport.retryPolicy }), names: [parseDockerRef(to.name).full] };
    }
    default:
      return openArchiveDestination(to, opened.name);
  }
}
