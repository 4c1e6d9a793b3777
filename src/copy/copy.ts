/**
 * The one copy pipeline: walk an image's index -> manifests -> config + layers, validate every
 * manifest and config, dedupe blobs, let the sink skip what it has, move the rest with bounded
 * concurrency, then write manifests children first and the root last. push, pull and (later)
 * registry-to-registry copies are this function with different endpoints.
 *
 * Configs go first: they are small, and each is fetched and validated (JSON, schema, one
 * `rootfs.diff_ids` entry per layer) before any blob moves, so a bad config costs one GET and
 * leaves every sink as it was. Their diff_ids then go with each layer to the sink, which checks
 * the uncompressed bytes against them while the layer streams in.
 */
import { Readable } from 'node:stream';
import { DigestMismatchError, InvalidContentError, NotFoundError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf, shortId } from '../image/digest.js';
import type { BlobInfo, ImageSink, ImageSource } from '../image/endpoint.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseConfigFor, parseManifest } from '../image/manifest.js';
import type { Platform } from '../image/descriptor.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import type { CopyListener } from './events.js';
import type { RetryPolicy } from '../transport/retry.js';
import { DEFAULT_RETRY, withRetries } from '../transport/retry.js';
import { limit } from './limit.js';

/** How to copy. */
export interface CopyOptions {
  /** Only this platform of an index (pull); all platforms when absent (push). */
  platform?: Platform | undefined;
  /** Blobs moved at once. */
  concurrency: number;
  /** `Pushing` or `Downloading`, for progress events. */
  action: 'Pushing' | 'Downloading';
  /** Status words for a moved blob and one the sink had (`Pushed`/`Layer already exists`). */
  done: string;
  exists: string;
  /** Tag to write the root under (push); by digest when absent. */
  tag?: string | undefined;
  onEvent?: CopyListener;
  /** The retry policy of the transport in use (DEFAULT_RETRY when absent). */
  retry?: RetryPolicy | undefined;
}

/** What was copied. */
export interface CopyResult {
  /** What a name should point at: the root, or the platform manifest chosen from an index. */
  target: Descriptor;
  /** Layers that were moved (not skipped or mounted). */
  transferred: number;
}

/** The largest config accepted (docker's are a few KiB; long histories reach a few hundred). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Copies the image at `root` from `source` to `sink`. */
export async function copyImage(source: ImageSource, sink: ImageSink, root: Descriptor, opts: CopyOptions): Promise<CopyResult> {
  const emit = opts.onEvent ?? (() => undefined);
  const rootBytes = await source.manifest(root);
  // The root's type was decided when it was fetched (the body against the Content-Type); the
  // body decides again here, so a store descriptor written by an older version is corrected.
  const parsed = parseManifest(rootBytes, root.mediaType);
  const rootDesc: Descriptor = { ...bareDescriptor(root), mediaType: parsed.mediaType };
  let manifests: { d: Descriptor; bytes: Buffer; manifest: ImageManifest }[];
  let target = rootDesc;
  let writeRoot = true;
  if (parsed.kind === 'index') {
    let children = parsed.index.manifests;
    if (opts.platform) {
      const want = opts.platform;
      const chosen = children.find((c) => platformMatches(c.platform, want));
      if (!chosen) throw new NotFoundError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
      children = [chosen];
      writeRoot = false;
    }
    manifests = [];
    for (const c of children) {
      const bytes = await source.manifest(c);
      const p = parseManifest(bytes, c.mediaType, { declaredBy: 'the index' });
      if (p.kind !== 'manifest') throw new InvalidContentError('nested indexes are not supported');
      manifests.push({ d: { ...bareDescriptor(c), mediaType: p.mediaType }, bytes, manifest: p.manifest });
    }
    if (!writeRoot) target = manifests[0]!.d;
  } else {
    manifests = [{ d: rootDesc, bytes: rootBytes, manifest: parsed.manifest }];
  }

  const run = limit(opts.concurrency);
  const configs = await readConfigs(source, sink, manifests.map((m) => m.manifest), run, opts);
  const blobs = new Map<Digest, { d: Descriptor; info: BlobInfo }>();
  for (const { manifest } of manifests) {
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

  const layers = [...blobs.values()].filter((b) => b.info.layer);
  for (const b of layers) emit({ type: 'status', id: shortId(b.d.digest), digest: b.d.digest, status: 'Waiting' });
  let transferred = 0;
  const configSource = new ConfigSource(source, configs);
  const move = ({ d, info }: { d: Descriptor; info: BlobInfo }): Promise<void> => run(async () => {
    const id = shortId(d.digest);
    let last = 0;
    const outcome = await sink.blob(d, info.layer ? source : configSource, (done) => {
      // Progress at most every 1% or 512 KiB, so that JSON output stays readable.
      if (info.layer && (done === d.size || done - last >= Math.max(d.size / 100, 512 * 1024) || done < last)) {
        last = done;
        emit({ type: 'progress', id, action: opts.action, current: done, total: d.size });
      }
    }, info);
    if (!info.layer) return;
    if (outcome.kind === 'transferred') transferred++;
    const status = outcome.kind === 'exists' ? opts.exists : outcome.kind === 'mounted' ? `Mounted from ${outcome.from}` : opts.done;
    emit({ type: 'status', id, digest: d.digest, status });
  });
  if (sink.readBlob) {
    // A local sink: layers, then the configs (in memory already), so that a layer refused leaves
    // no config half-written in the store.
    await Promise.all(layers.map(move));
    await Promise.all([...blobs.values()].filter((b) => !b.info.layer).map(move));
  } else {
    // A registry: everything at once, as before (an interrupted push has its config up already).
    await Promise.all([...blobs.values()].map(move));
  }

  const multi = parsed.kind === 'index' && writeRoot;
  for (const m of manifests) await sink.manifest(m.d, m.bytes, multi ? undefined : opts.tag);
  if (multi) await sink.manifest(rootDesc, rootBytes, opts.tag);
  return { target, transferred };
}

/**
 * The bytes of every config the manifests name, by digest, verified: what the sink already holds,
 * else read from the source (in memory: a config is small, and it is validated before it is moved).
 */
async function readConfigs(source: ImageSource, sink: ImageSink, manifests: ImageManifest[], run: ReturnType<typeof limit>, opts: CopyOptions): Promise<Map<Digest, Buffer>> {
  const out = new Map<Digest, Buffer>();
  const wanted = new Map(manifests.map((m) => [m.config.digest, m.config]));
  await Promise.all([...wanted.values()].map((d) => run(async () => {
    if (d.size > MAX_CONFIG_BYTES) throw new InvalidContentError(`invalid image config ${d.digest}: ${d.size} bytes, more than ${MAX_CONFIG_BYTES}`);
    out.set(d.digest, (await sink.readBlob?.(d)) ?? (await readSmall(source, d, opts.retry ?? DEFAULT_RETRY, opts.onEvent)));
  })));
  return out;
}

/**
 * A small blob from a source into memory, checked against its descriptor; a dropped connection
 * is tried again under the one retry policy (statuses were retried by the transport already).
 */
async function readSmall(source: ImageSource, d: Descriptor, policy: RetryPolicy, onEvent?: CopyListener): Promise<Buffer> {
  const bytes = await withRetries(policy, d.digest, async () => {
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
  }, { context: { statuses: false }, onRetry: (e) => onEvent?.({ type: 'retry', attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }) });
  if (bytes.length !== d.size || digestOf(bytes) !== d.digest) throw new DigestMismatchError(`filesystem layer verification failed for digest ${d.digest}`);
  return bytes;
}

/** The source, except that the configs already read are served from memory (with random access for chunked uploads). */
class ConfigSource implements ImageSource {
  constructor(private readonly inner: ImageSource, private readonly bytes: ReadonlyMap<Digest, Buffer>) {}

  manifest(d: Descriptor): Promise<Buffer> {
    return this.inner.manifest(d);
  }

  async blob(d: Descriptor, offset: number, signal?: AbortSignal): Promise<{ stream: Readable; resumed: boolean }> {
    const b = this.bytes.get(d.digest);
    return b ? { stream: Readable.from([b.subarray(offset)]), resumed: true } : this.inner.blob(d, offset, signal);
  }

  open(d: Descriptor, start: number, end: number): Readable {
    const b = this.bytes.get(d.digest);
    if (b) return Readable.from(end > start ? [b.subarray(start, end)] : []);
    if (!this.inner.open) throw new InvalidContentError('chunked upload needs a local source');
    return this.inner.open(d, start, end);
  }
}
