/**
 * The parts of a docker-archive every reader of one shares: `manifest.json` entries (as
 * `docker save` and skopeo write them), the names an archive gives its images (RepoTags,
 * index.json annotations), and the manifest made for an image that came without one.
 */
import { InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION } from '../image/descriptor.js';
import type { ImageManifest } from '../image/manifest.js';
import { parseJson } from '../image/manifest.js';
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST, layerMediaType } from '../image/media-types.js';
import { parseDockerRef } from '../reference/index.js';
import type { Compression } from './compression.js';

/** One image of a docker-archive's `manifest.json`, checked: a config path, layer paths, its tags. */
export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** Parses and checks `manifest.json` (at least one entry, each with Config and Layers paths). */
export function parseManifestJson(bytes: Buffer): DockerManifestEntry[] {
  const entries = parseJson<unknown>(bytes, 'archive manifest.json');
  if (!Array.isArray(entries) || entries.length === 0) throw new InvalidContentError('invalid archive: manifest.json lists no images');
  return entries.map((e: { Config?: unknown; RepoTags?: unknown; Layers?: unknown } | null, i) => {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers) || !e.Layers.every((l) => typeof l === 'string')) {
      throw new InvalidContentError(`invalid archive: manifest.json entry ${i} has no Config or Layers`);
    }
    const tags = e.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new InvalidContentError(`invalid archive: manifest.json entry ${i} has invalid RepoTags`);
    return { Config: e.Config, RepoTags: tags as string[], Layers: e.Layers as string[] };
  });
}

/** A name from RepoTags or an annotation as a full reference; an invalid one is an archive error. */
export function archiveName(name: string, where: string): string {
  try {
    return parseDockerRef(name).full;
  } catch (err) {
    throw new InvalidContentError(`invalid archive: ${where} has an invalid name "${name}": ${(err as Error).message}`);
  }
}

/**
 * The full names an archive's index.json entry gives its image: containerd's (docker 25+)
 * image name annotation, else an OCI ref.name that is a reference (`a/b:1`, not a bare tag).
 */
export function indexEntryNames(d: Descriptor): string[] {
  const full = d.annotations?.[CONTAINERD_NAME_ANNOTATION];
  const ref = d.annotations?.[REF_NAME_ANNOTATION];
  if (full) return [archiveName(full, 'index.json')];
  return ref && /[/:]/.test(ref) ? [archiveName(ref, 'index.json')] : [];
}

/** Docker schema2's media type for a layer of `compression` (containerd's names for plain tar and zstd). */
export function dockerLayerMediaType(compression: 'gzip' | 'zstd' | 'none'): string {
  if (compression === 'gzip') return DOCKER_LAYER_GZIP;
  return compression === 'zstd' ? 'application/vnd.docker.image.rootfs.diff.tar.zstd' : 'application/vnd.docker.image.rootfs.diff.tar';
}

/** A layer of an image without a manifest: its bytes as the archive holds them. */
export interface BareLayer {
  digest: Descriptor['digest'];
  size: number;
  compression: Compression;
}

/**
 * The manifest for a docker-archive image that came without one: `oci` (what `load` stores) or
 * `docker` schema2 (the docker-archive source, as skopeo reads such an archive). Its bytes are
 * `JSON.stringify` of it.
 */
export function synthesizedManifest(config: { digest: Descriptor['digest']; size: number }, layers: BareLayer[], flavour: 'oci' | 'docker'): ImageManifest {
  const docker = flavour === 'docker';
  return {
    schemaVersion: 2,
    mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
    config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: config.digest, size: config.size },
    layers: layers.map((l) => {
      if (l.compression !== 'gzip' && l.compression !== 'zstd' && l.compression !== 'none') {
        throw new InvalidContentError(`invalid archive: layer ${l.digest} is ${l.compression}-compressed, which images cannot carry`);
      }
      return { mediaType: docker ? dockerLayerMediaType(l.compression) : layerMediaType(l.compression, false), digest: l.digest, size: l.size };
    }),
  };
}
