/**
 * Writes a docker-archive tar as docker 25+ does: `blobs/sha256/*`, an OCI `index.json` and
 * `oci-layout`, plus the classic `manifest.json` and `repositories`, so `docker load`,
 * `skopeo docker-archive:` and OCI tools all read it. Streams blobs; memory stays flat.
 */
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import type { Descriptor } from '../image/descriptor.js';
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION, bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { hexOf } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { OCI_INDEX } from '../image/media-types.js';
import { parseReference } from '../reference/index.js';

/** One image to save: its root descriptor, the platform manifest, and the names to carry. */
export interface SaveImage {
  root: Descriptor;
  manifest: ImageManifest;
  /** Full references; empty saves it by ID only. */
  names: string[];
}

/** Where blobs come from. */
export interface BlobReader {
  open(d: Digest): Readable;
}

const MTIME = new Date(0);

/** Writes the archive of `images` to `out`, every blob reachable from the roots once. */
export async function writeDockerArchive(
  images: SaveImage[],
  blobDescriptors: Descriptor[],
  blobs: BlobReader,
  out: Writable,
): Promise<void> {
  const tar = pack();
  const done = pipeline(tar, out);
  // When the output fails mid-blob the loop below rejects first; this failure is the same one.
  done.catch(() => undefined);
  const entry = (name: string, data: string): void => {
    tar.entry({ name, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, data);
  };
  tar.entry({ name: 'blobs', type: 'directory', mode: 0o755, mtime: MTIME });
  tar.entry({ name: 'blobs/sha256', type: 'directory', mode: 0o755, mtime: MTIME });
  const written = new Set<Digest>();
  for (const d of blobDescriptors) {
    if (written.has(d.digest)) continue;
    written.add(d.digest);
    await new Promise<void>((resolve, reject) => {
      const sink = tar.entry({ name: `blobs/sha256/${hexOf(d.digest)}`, size: d.size, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
      const src = blobs.open(d.digest);
      src.on('error', (err) => {
        sink.destroy(err);
        reject(err);
      });
      // The output failing (a full disk, a reader gone) destroys the pack and this entry: stop reading, reject.
      sink.on('error', (err: Error) => {
        src.destroy();
        reject(err);
      });
      src.pipe(sink);
    });
  }

  const indexEntries: Descriptor[] = [];
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const familiar = img.names.map((n) => parseReference(n));
    if (familiar.length === 0) indexEntries.push(bareDescriptor(img.root));
    for (const ref of familiar) {
      indexEntries.push({
        ...bareDescriptor(img.root),
        annotations: { [CONTAINERD_NAME_ANNOTATION]: ref.full, [REF_NAME_ANNOTATION]: ref.tag ?? 'latest' },
      });
      const top = img.manifest.layers.at(-1);
      if (top) (repositories[ref.familiarName] ??= {})[ref.tag ?? 'latest'] = hexOf(top.digest);
    }
    manifestJson.push({
      Config: `blobs/sha256/${hexOf(img.manifest.config.digest)}`,
      RepoTags: familiar.length > 0 ? familiar.map((r) => r.familiar) : null,
      Layers: img.manifest.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
    });
  }
  entry('index.json', `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: indexEntries })}\n`);
  entry('manifest.json', `${JSON.stringify(manifestJson)}\n`);
  entry('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
  if (Object.keys(repositories).length > 0) entry('repositories', `${JSON.stringify(repositories)}\n`);
  tar.finalize();
  await done;
}
