/**
 * The one copy pipeline: walk each image's index -> manifests -> config + layers, validate every
 * manifest and config, dedupe blobs, let the destination skip what it has or mount it, move the
 * rest with bounded concurrency, write manifests children first and the root last, then have
 * the destination commit. push, pull, copy, save and load are this function with different
 * endpoints (image/endpoint.ts).
 *
 * Configs go first: they are small, and each is fetched and validated (JSON, schema, one
 * `rootfs.diff_ids` entry per layer) before any blob moves, so a bad config costs one GET and
 * leaves every destination as it was. Their diff_ids then go with each layer to the destination,
 * which checks the uncompressed bytes against them while the layer streams in (the store does).
 */
import { Readable } from 'node:stream';
import { DigestMismatchError, InvalidContentError, NotFoundError } from '../errors.js';
import type { Descriptor, Platform } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf, shortId } from '../image/digest.js';
import type { BlobInfo, BlobReader, CopiedImage, ImageDestination, ImageSource } from '../image/endpoint.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfigFor, parseManifest } from '../image/manifest.js';
import { isImageConfig } from '../image/media-types.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import type { RetryPolicy } from '../transport/retry.js';
import { DEFAULT_RETRY, withRetries } from '../transport/retry.js';
import type { CopyListener } from '../image/progress.js';
import { retryingEvent } from '../image/progress.js';
import { escapeControl } from '../text/escape.js';
import { limit } from './limit.js';

/** How to copy. */
export interface CopyOptions {
  /** Only this platform of an index (its manifest becomes the image); every platform when absent. */
  platform?: Platform | undefined;
  /**
   * With `platform`: keep the index as the image, with only that platform's manifest and blobs
   * copied (the store's multi-platform rule: docker 29's containerd store keeps them so).
   */
  keepIndex?: boolean | undefined;
  /** Blobs moved at once. */
  concurrency: number;
  onEvent?: CopyListener | undefined;
  /** The retry policy of the transport in use (DEFAULT_RETRY when absent). */
  retry?: RetryPolicy | undefined;
  /**
   * Ask the destination first whether it has each root under its names (`copy`: a re-run costs
   * a HEAD per name). Off for push, which shows every layer as docker does.
   */
  skipUpToDate?: boolean | undefined;
  /**
   * Copy manifests whose config is not an image config (signatures, SBOMs, charts) as opaque
   * blobs. Off: such a manifest is refused (the store keeps runnable images only, as docker).
   */
  artifacts?: boolean | undefined;
  /**
   * Bring along the manifests whose `subject` is a copied image (signatures, SBOMs, attestations,
   * and theirs in turn), as the source lists them, by digest; the destination writes them the way
   * it supports. Not for an image the destination already had (skipUpToDate).
   */
  referrers?: boolean | undefined;
}

/** One image to copy: its root and what to call it at the destination. */
export interface CopyRoot {
  root: Descriptor;
  /** Tags or full references at the destination; empty: by digest only. */
  names: string[];
}

/** What was copied, per image. */
export interface CopyResult extends CopiedImage {
  /** Layers that were moved (not skipped or mounted). */
  transferred: number;
  /** The destination had the root under every name already: nothing was read or moved. */
  upToDate: boolean;
  /** The destination's commit changed something (names, blobs; docker's "newer image"); true where there is no commit. */
  changed: boolean;
  /** Referrers copied with it. */
  referrers: number;
}

/** The largest config accepted (docker's are a few KiB; long histories reach a few hundred). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** A manifest of the walk, parsed. */
interface Walked {
  d: Descriptor;
  bytes: Buffer;
  manifest: ImageManifest;
}

/** A blob of the walk with what the destination needs to know about it. */
interface BlobJob {
  d: Descriptor;
  info: BlobInfo;
}

/** Copies one image; see {@link copyImages}. */
export async function copyImage(source: ImageSource, dest: ImageDestination, root: CopyRoot, opts: CopyOptions): Promise<CopyResult> {
  return (await copyImages(source, dest, [root], opts))[0]!;
}

/**
 * Copies `roots` from `source` to `dest` and commits them together (one store update for a
 * multi-image archive). A blob shared by several images moves once.
 */
export async function copyImages(source: ImageSource, dest: ImageDestination, roots: CopyRoot[], opts: CopyOptions): Promise<CopyResult[]> {
  try {
    return await copyAll(source, dest, roots, opts);
  } catch (err) {
    await dest.abort?.().catch(() => undefined);
    throw err;
  }
}

async function copyAll(source: ImageSource, dest: ImageDestination, roots: CopyRoot[], opts: CopyOptions): Promise<CopyResult[]> {
  const run = limit(opts.concurrency);
  const results: CopyResult[] = [];
  const moved = new Map<Digest, Promise<boolean>>();
  const pending: CopiedImage[] = [];
  for (const r of roots) {
    // One platform of an index becomes the image: what the destination must hold is that
    // platform's manifest, known once the index is read; otherwise the root, asked before reading.
    const early = opts.platform === undefined || opts.keepIndex === true;
    if (early && opts.skipUpToDate && (await dest.upToDate?.(r.root, r.names)) === true) {
      results.push({ root: r.root, target: r.root, names: r.names, transferred: 0, upToDate: true, changed: false, referrers: 0 });
      continue;
    }
    const walk = await walkImage(source, r.root, opts.platform, opts.keepIndex === true);
    if (!early && opts.skipUpToDate && (await dest.upToDate?.(walk.target, r.names)) === true) {
      results.push({ root: walk.target, target: walk.target, names: r.names, transferred: 0, upToDate: true, changed: false, referrers: 0 });
      continue;
    }
    const transferred = await moveBlobs(source, dest, walk.manifests, run, moved, opts);
    for (const m of walk.manifests) await dest.putManifest(m.d, m.bytes, walk.index ? [] : r.names);
    if (walk.index) await dest.putManifest(walk.index.d, walk.index.bytes, r.names);
    const copied = { root: walk.index?.d ?? walk.manifests[0]!.d, target: walk.target, names: r.names };
    pending.push(copied);
    // Before the commit: an archive is closed by it.
    const referrers = opts.referrers ? await copyReferrers(source, dest, walk.target, run, moved, opts, pending) : 0;
    results.push({ ...copied, transferred, upToDate: false, changed: true, referrers });
  }
  if (pending.length > 0 && dest.commit) {
    const changed = await dest.commit(pending);
    for (const r of results) if (!r.upToDate) r.changed = changed;
  }
  return results;
}

/**
 * Copies the manifests whose subject is `subject`, and theirs in turn (a signature of an SBOM), by
 * digest, as artifacts; adds them to `pending` for the commit. Returns how many.
 */
async function copyReferrers(
  source: ImageSource,
  dest: ImageDestination,
  subject: Descriptor,
  run: ReturnType<typeof limit>,
  moved: Map<Digest, Promise<boolean>>,
  opts: CopyOptions,
  pending: CopiedImage[],
): Promise<number> {
  if (!source.referrers) return 0;
  const seen = new Set<string>([subject.digest]);
  const queue = [subject];
  let copied = 0;
  while (queue.length > 0) {
    for (const r of await source.referrers(queue.shift()!)) {
      if (seen.has(r.digest)) continue;
      seen.add(r.digest);
      const walk = await walkImage(source, r, undefined, false);
      await moveBlobs(source, dest, walk.manifests, run, moved, { ...opts, artifacts: true });
      for (const m of walk.manifests) await dest.putManifest(m.d, m.bytes, []);
      if (walk.index) await dest.putManifest(walk.index.d, walk.index.bytes, []);
      pending.push({ root: walk.target, target: walk.target, names: [] });
      copied++;
      queue.push(r);
    }
  }
  return copied;
}

/** The manifests to copy for `root`: an index's children (or the one platform asked for), or the manifest itself. */
async function walkImage(source: ImageSource, root: Descriptor, platform: Platform | undefined, keepIndex: boolean): Promise<{ manifests: Walked[]; index?: { d: Descriptor; bytes: Buffer }; target: Descriptor }> {
  const rootBytes = await source.manifest(root);
  // The root's type was decided when it was fetched (the body against the Content-Type); the
  // body decides again here, so a store descriptor written by an older version is corrected.
  const parsed = parseManifest(rootBytes, root.mediaType);
  const rootDesc: Descriptor = { ...bareDescriptor(root), mediaType: parsed.mediaType };
  if (parsed.kind === 'manifest') return { manifests: [{ d: rootDesc, bytes: rootBytes, manifest: parsed.manifest }], target: rootDesc };
  // Platforms the source does not hold stay absent (the store's multi-platform rule).
  let children = parsed.index.manifests.filter((c) => source.holds?.(c) !== false);
  if (children.length === 0) throw new InvalidContentError(`index ${root.digest} has no platform manifest in the source`);
  if (platform) {
    const chosen = children.find((c) => platformMatches(c.platform, platform));
    if (!chosen) throw new NotFoundError(`no matching manifest for ${formatPlatform(platform)} in the manifest list entries`);
    children = [chosen];
  }
  const manifests: Walked[] = [];
  for (const c of children) {
    const bytes = await source.manifest(c);
    const p = parseManifest(bytes, c.mediaType, { declaredBy: 'the index' });
    if (p.kind !== 'manifest') throw new InvalidContentError('nested indexes are not supported');
    manifests.push({ d: { ...bareDescriptor(c), mediaType: p.mediaType }, bytes, manifest: p.manifest });
  }
  // One platform of an index: its manifest is the image (the index is not written), unless the
  // index is kept as the image with this one platform present.
  if (platform && !keepIndex) return { manifests, target: manifests[0]!.d };
  return { manifests, index: { d: rootDesc, bytes: rootBytes }, target: rootDesc };
}

/**
 * Validates the configs, then brings every blob of `manifests` to `dest` (`moved` dedupes across
 * the images of one copy). Returns how many layers moved.
 */
async function moveBlobs(
  source: ImageSource,
  dest: ImageDestination,
  manifests: Walked[],
  run: ReturnType<typeof limit>,
  moved: Map<Digest, Promise<boolean>>,
  opts: CopyOptions,
): Promise<number> {
  const emit = opts.onEvent ?? (() => undefined);
  const images = manifests.filter((m) => isImageConfig(m.manifest.config.mediaType));
  const configs = await readConfigs(source, dest, images.map((m) => m.manifest), run, opts);
  const blobs = new Map<Digest, BlobJob>();
  for (const { manifest } of manifests) {
    if (!isImageConfig(manifest.config.mediaType)) {
      if (!opts.artifacts) throw new InvalidContentError(`unsupported config media type "${escapeControl(manifest.config.mediaType)}": not an image (an artifact such as a signature or a chart)`);
      // An artifact (a signature, an SBOM: its config is not an image config): its blobs are
      // opaque, copied and verified by digest, with no diff_ids to check.
      for (const b of [manifest.config, ...manifest.layers]) if (!blobs.has(b.digest)) blobs.set(b.digest, { d: b, info: { layer: false } });
      continue;
    }
    const config = parseConfigFor(configs.get(manifest.config.digest)!, manifest);
    manifest.layers.forEach((l, i) => {
      const diffId = config.rootfs.diff_ids[i]!;
      const known = blobs.get(l.digest);
      if (known?.info.diffId !== undefined && known.info.diffId !== diffId) {
        throw new DigestMismatchError(`layer diff_id mismatch for ${l.digest}: one config lists ${known.info.diffId}, another ${diffId}`);
      }
      if (!known) blobs.set(l.digest, { d: l, info: { layer: true, diffId } });
    });
  }
  for (const { manifest } of manifests) {
    if (!blobs.has(manifest.config.digest)) blobs.set(manifest.config.digest, { d: manifest.config, info: { layer: false } });
  }

  const layers = [...blobs.values()].filter((b) => b.info.layer && !moved.has(b.d.digest));
  for (const b of layers) emit({ type: 'blob', id: shortId(b.d.digest), digest: b.d.digest, state: 'waiting' });
  let transferred = 0;
  const move = (job: BlobJob): Promise<boolean> => {
    const earlier = moved.get(job.d.digest);
    if (earlier) return earlier;
    const p = run(async () => {
      const did = await moveBlob(source, dest, job, configs, opts);
      if (did && job.info.layer) transferred++;
      return did;
    });
    moved.set(job.d.digest, p);
    return p;
  };
  if (dest.readBlob) {
    // A local destination: layers, then the configs (in memory already), so that a layer refused
    // leaves no config half-written.
    await Promise.all(layers.map(move));
    await Promise.all([...blobs.values()].filter((b) => !b.info.layer).map(move));
  } else {
    // A registry: everything at once (an interrupted push has its config up already).
    await Promise.all([...blobs.values()].map(move));
  }
  return transferred;
}

/** One blob: there already, mounted, or moved. True when bytes moved. */
async function moveBlob(source: ImageSource, dest: ImageDestination, { d, info }: BlobJob, configs: ReadonlyMap<Digest, Buffer>, opts: CopyOptions): Promise<boolean> {
  const emit = opts.onEvent ?? (() => undefined);
  const id = shortId(d.digest);
  const tell = info.layer ? emit : () => undefined;
  if (await dest.has(d, info)) {
    tell({ type: 'blob', id, digest: d.digest, state: 'exists' });
    return false;
  }
  const from = await dest.mount?.(d);
  if (from !== undefined) {
    tell({ type: 'blob', id, digest: d.digest, state: 'mounted', from });
    return false;
  }
  const bytes = configs.get(d.digest);
  // A config is served from memory (read and validated already), with random access.
  const read: BlobReader = bytes
    ? async (offset) => ({ stream: Readable.from(offset < bytes.length ? [bytes.subarray(offset)] : []), resumed: true })
    : Object.assign((offset: number, signal?: AbortSignal) => source.blob(d, offset, signal), { stagedFile: source.stagedFile?.(d) });
  let last = 0;
  const outcome = await dest.put(d, read, (done) => {
    // Progress at most every 1% or 512 KiB, so that JSON output stays readable.
    if (done === d.size || done - last >= Math.max(d.size / 100, 512 * 1024) || done < last) {
      last = done;
      tell({ type: 'blob', id, digest: d.digest, state: 'transferring', current: done, total: d.size });
    }
  }, info);
  tell({ type: 'blob', id, digest: d.digest, state: outcome === 'exists' ? 'exists' : 'done' });
  return outcome === 'transferred';
}

/**
 * The bytes of every config the manifests name, by digest, verified: what the destination holds
 * already, else read from the source (in memory: a config is small, and it is validated before it
 * is moved).
 */
async function readConfigs(source: ImageSource, dest: ImageDestination, manifests: ImageManifest[], run: ReturnType<typeof limit>, opts: CopyOptions): Promise<Map<Digest, Buffer>> {
  const out = new Map<Digest, Buffer>();
  const wanted = new Map(manifests.map((m) => [m.config.digest, m.config]));
  await Promise.all([...wanted.values()].map((d) => run(async () => {
    if (d.size > MAX_CONFIG_BYTES) throw new InvalidContentError(`invalid image config ${d.digest}: ${d.size} bytes, more than ${MAX_CONFIG_BYTES}`);
    out.set(d.digest, (await dest.readBlob?.(d)) ?? (await readSmall(source, d, opts)));
  })));
  return out;
}

/**
 * A small blob from a source into memory, checked against its descriptor; a dropped connection
 * is tried again under the one retry policy (statuses were retried by the transport already).
 */
async function readSmall(source: ImageSource, d: Descriptor, opts: CopyOptions): Promise<Buffer> {
  const bytes = await withRetries(opts.retry ?? DEFAULT_RETRY, d.digest, async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    const { stream } = await source.blob(d, 0);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > d.size) {
        stream.destroy();
        break;
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }, { context: { statuses: false }, onRetry: (e) => opts.onEvent?.(retryingEvent(e)) });
  if (bytes.length !== d.size || digestOf(bytes) !== d.digest) throw new DigestMismatchError(`filesystem layer verification failed for digest ${d.digest}`);
  return bytes;
}
