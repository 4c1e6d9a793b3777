/**
 * The one copy pipeline: walk an image's index -> manifests -> config + layers, dedupe blobs,
 * let the sink skip what it has, move the rest with bounded concurrency, then write manifests
 * children first and the root last. push, pull and (later) registry-to-registry copies are
 * this function with different endpoints.
 */
import { InvalidContentError, NotFoundError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { bareDescriptor } from '../image/descriptor.js';
import { shortId } from '../image/digest.js';
import type { ImageSink, ImageSource } from '../image/endpoint.js';
import { parseManifest } from '../image/manifest.js';
import type { Platform } from '../image/descriptor.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import type { CopyListener } from './events.js';
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
}

/** What was copied. */
export interface CopyResult {
  /** What a name should point at: the root, or the platform manifest chosen from an index. */
  target: Descriptor;
  /** Layers that were moved (not skipped or mounted). */
  transferred: number;
}

/** Copies the image at `root` from `source` to `sink`. */
export async function copyImage(source: ImageSource, sink: ImageSink, root: Descriptor, opts: CopyOptions): Promise<CopyResult> {
  const emit = opts.onEvent ?? (() => undefined);
  const rootBytes = await source.manifest(root);
  const parsed = parseManifest(rootBytes, root.mediaType);
  let manifests: { d: Descriptor; bytes: Buffer }[];
  let target = bareDescriptor(root);
  let writeRoot = true;
  if (parsed.kind === 'index') {
    let children = parsed.index.manifests;
    if (opts.platform) {
      const want = opts.platform;
      const chosen = children.find((c) => platformMatches(c.platform, want));
      if (!chosen) throw new NotFoundError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
      children = [chosen];
      target = bareDescriptor(chosen);
      writeRoot = false;
    }
    manifests = [];
    for (const c of children) manifests.push({ d: bareDescriptor(c), bytes: await source.manifest(c) });
  } else {
    manifests = [{ d: bareDescriptor(root), bytes: rootBytes }];
  }

  const blobs = new Map<string, { d: Descriptor; layer: boolean }>();
  for (const m of manifests) {
    const p = parseManifest(m.bytes, m.d.mediaType);
    if (p.kind !== 'manifest') throw new InvalidContentError('nested indexes are not supported');
    for (const l of p.manifest.layers) if (!blobs.has(l.digest)) blobs.set(l.digest, { d: l, layer: true });
    if (!blobs.has(p.manifest.config.digest)) blobs.set(p.manifest.config.digest, { d: p.manifest.config, layer: false });
  }

  const layers = [...blobs.values()].filter((b) => b.layer);
  for (const b of layers) emit({ type: 'status', id: shortId(b.d.digest), digest: b.d.digest, status: 'Waiting' });
  let transferred = 0;
  const run = limit(opts.concurrency);
  await Promise.all([...blobs.values()].map(({ d, layer }) => run(async () => {
    const id = shortId(d.digest);
    let last = 0;
    const outcome = await sink.blob(d, source, (done) => {
      // Progress at most every 1% or 512 KiB, so that JSON output stays readable.
      if (layer && (done === d.size || done - last >= Math.max(d.size / 100, 512 * 1024) || done < last)) {
        last = done;
        emit({ type: 'progress', id, action: opts.action, current: done, total: d.size });
      }
    });
    if (!layer) return;
    if (outcome.kind === 'transferred') transferred++;
    const status = outcome.kind === 'exists' ? opts.exists : outcome.kind === 'mounted' ? `Mounted from ${outcome.from}` : opts.done;
    emit({ type: 'status', id, digest: d.digest, status });
  })));

  const multi = parsed.kind === 'index' && writeRoot;
  for (const m of manifests) await sink.manifest(m.d, m.bytes, multi ? undefined : opts.tag);
  if (multi) await sink.manifest(bareDescriptor(root), rootBytes, opts.tag);
  return { target, transferred };
}
