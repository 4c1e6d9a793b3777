/**
 * Writes a docker-archive tar as docker 25+ does: `blobs/sha256/*`, an OCI `index.json` and
 * `oci-layout`, plus the classic `manifest.json` and `repositories`, so `docker load`,
 * `skopeo docker-archive:` and OCI tools all read it. Streams blobs; memory stays flat.
 */
import type { Writable } from 'node:stream';
import type { Descriptor } from '../image/descriptor.js';
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION, bareDescriptor } from '../image/descriptor.js';
import { hexOf } from '../image/digest.js';
import type { ImageManifest } from '../image/manifest.js';
import { OCI_INDEX } from '../image/media-types.js';
import { parseReference } from '../reference/index.js';
import type { TarFileEntry } from './tar-blob-writer.js';
import { TarBlobWriter } from './tar-blob-writer.js';

/** One image to save: its root descriptor, the platform manifest, and the names to carry. */
export interface SaveImage {
  root: Descriptor;
  manifest: ImageManifest;
  /** Full references; empty saves it by ID only. */
  names: string[];
}

/**
 * The one writer of the docker-archive format: blobs streamed in as they come (see
 * {@link TarBlobWriter}), then `index.json`, `manifest.json`, `oci-layout` and `repositories`.
 * Used by the docker-archive copy destination (archive/docker-archive.ts), which `save` is.
 */
export class DockerArchiveWriter extends TarBlobWriter {
  /** Starts the archive on `out` (`blobs/` and `blobs/sha256/` first, as docker writes them). */
  constructor(out: Writable) {
    super(out, ['blobs', 'blobs/sha256']);
  }

  /** Writes the files that name `images` and closes the archive; every blob they need must be in already. */
  async finishImages(images: SaveImage[]): Promise<void> {
    await this.finish(dockerArchiveFiles(images));
  }
}

/** The files after the blobs: index.json (OCI, with docker 25's annotations), manifest.json, oci-layout, repositories. */
export function dockerArchiveFiles(images: SaveImage[]): TarFileEntry[] {
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
  const files: TarFileEntry[] = [
    { name: 'index.json', data: `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: indexEntries })}\n` },
    { name: 'manifest.json', data: `${JSON.stringify(manifestJson)}\n` },
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
  ];
  if (Object.keys(repositories).length > 0) files.push({ name: 'repositories', data: `${JSON.stringify(repositories)}\n` });
  return files;
}
