/** Image manifests and indexes: types, parsing and validation of their JSON. */
import { InvalidContentError } from '../errors.js';
import type { ImageConfig } from './config.js';
import type { Descriptor } from './descriptor.js';
import { isDigest } from './digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, isIndexType } from './media-types.js';

/** A single-image manifest (OCI or Docker schema2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index or manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** A parsed manifest of either kind, tagged by its kind. */
export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

function checkDescriptor(d: unknown, where: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (!o || typeof o !== 'object' || typeof o.mediaType !== 'string' || !isDigest(o.digest)
    || typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw new InvalidContentError(`invalid descriptor in ${where}`);
  }
  return o as Descriptor;
}

/** Parses JSON bytes, throwing InvalidContentError naming `what` on bad JSON. */
export function parseJson<T>(bytes: Uint8Array | string, what: string): T {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as T;
  } catch (err) {
    throw new InvalidContentError(`invalid ${what}: not JSON`, { cause: err });
  }
}

/**
 * Parses and validates a manifest or index. `mediaType` is the type it was served or
 * described with; the document's own `mediaType` field wins when present.
 */
export function parseManifest(bytes: Uint8Array | string, mediaType?: string): ParsedManifest {
  const doc = parseJson<Record<string, unknown>>(bytes, 'manifest');
  if (!doc || typeof doc !== 'object' || doc['schemaVersion'] !== 2) {
    throw new InvalidContentError('invalid manifest: unsupported schemaVersion');
  }
  const mt = (typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined)
    ?? mediaType
    ?? (Array.isArray(doc['manifests']) ? OCI_INDEX : OCI_MANIFEST);
  if (isIndexType(mt) || (Array.isArray(doc['manifests']) && !doc['config'])) {
    const manifests = doc['manifests'];
    if (!Array.isArray(manifests)) throw new InvalidContentError('invalid index: no manifests');
    manifests.forEach((m, i) => checkDescriptor(m, `index manifests[${i}]`));
    return { kind: 'index', mediaType: mt === DOCKER_MANIFEST_LIST ? mt : OCI_INDEX, index: doc as unknown as ImageIndex };
  }
  checkDescriptor(doc['config'], 'manifest config');
  const layers = doc['layers'];
  if (!Array.isArray(layers)) throw new InvalidContentError('invalid manifest: no layers');
  layers.forEach((l, i) => checkDescriptor(l, `manifest layers[${i}]`));
  return { kind: 'manifest', mediaType: mt === DOCKER_MANIFEST ? mt : OCI_MANIFEST, manifest: doc as unknown as ImageManifest };
}

/** Parses and minimally validates an image config blob. */
export function parseConfig(bytes: Uint8Array | string): ImageConfig {
  const c = parseJson<ImageConfig>(bytes, 'image config');
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)
    || !c.rootfs.diff_ids.every((d) => isDigest(d))) {
    throw new InvalidContentError('invalid image config: missing rootfs.diff_ids');
  }
  return c;
}

/** All blob descriptors a manifest references (config first, then layers). */
export function manifestBlobs(m: ImageManifest): Descriptor[] {
  return [m.config, ...m.layers];
}
