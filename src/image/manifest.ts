/**
 * Image manifests, indexes and configs: types, parsing and validation of their JSON. This is the
 * one check every path that brings content into the store goes through (pull, load, copy): a
 * document that fails it is never named, so it can never make the store unreadable.
 */
import { InvalidContentError } from '../errors.js';
import type { ImageConfig } from './config.js';
import type { Descriptor } from './descriptor.js';
import { isDigest } from './digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, isIndexType, isManifestType } from './media-types.js';

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

/** Options of {@link parseManifest}. */
export interface ParseManifestOptions {
  /**
   * Who declared `mediaType` (`registry` for a Content-Type, `index` for an index entry): when
   * given, a declared type that disagrees with the type the document states is an error. Without
   * it the document's own type wins silently (reading what the store already holds).
   */
  declaredBy?: string;
}

/** RFC 6838 `type/subtype` (with `+suffix` and dots), what a media type must look like. */
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True when `s` is a well-formed media type (`type/subtype`, no parameters). */
export function isMediaType(s: unknown): s is string {
  return typeof s === 'string' && MEDIA_TYPE_RE.test(s);
}

/**
 * Content-Types that say nothing about the manifest (some registries and static file servers
 * send them for every manifest): they are ignored rather than compared with the document's type.
 */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream', 'binary/octet-stream']);

/**
 * Network text in an error message: control characters as `\xNN` / `\uNNNN`, and at most 200
 * characters, so that a hostile server cannot paint the terminal.
 */
function shown(s: string): string {
  const cut = s.length > 200 ? `${s.slice(0, 200)}...` : s;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkStringMap(v: unknown, where: string): void {
  if (v === undefined) return;
  if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) {
    throw new InvalidContentError(`invalid ${where}: annotations must map strings to strings`);
  }
}

/** Validates one descriptor (`where` names it in the message: `manifest layers[2]`). */
function checkDescriptor(d: unknown, where: string): Descriptor {
  if (!isObject(d)) throw new InvalidContentError(`invalid descriptor in ${where}: not an object`);
  if (!isMediaType(d['mediaType'])) {
    throw new InvalidContentError(`invalid descriptor in ${where}: media type ${typeof d['mediaType'] === 'string' ? `"${shown(d['mediaType'])}" is malformed` : 'is missing'}`);
  }
  if (!isDigest(d['digest'])) throw new InvalidContentError(`invalid descriptor in ${where}: digest is not sha256:<64 hex>`);
  const size = d['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidContentError(`invalid descriptor in ${where}: size is not a non-negative integer`);
  }
  checkStringMap(d['annotations'], `descriptor in ${where}`);
  if (d['urls'] !== undefined && (!Array.isArray(d['urls']) || !d['urls'].every((u) => typeof u === 'string'))) {
    throw new InvalidContentError(`invalid descriptor in ${where}: urls must be strings`);
  }
  const p = d['platform'];
  if (p !== undefined && (!isObject(p) || typeof p['architecture'] !== 'string' || typeof p['os'] !== 'string')) {
    throw new InvalidContentError(`invalid descriptor in ${where}: platform needs architecture and os strings`);
  }
  return d as unknown as Descriptor;
}

/** Parses JSON bytes, throwing InvalidContentError naming `what` on bad JSON (never quoting the input). */
export function parseJson<T>(bytes: Uint8Array | string, what: string): T {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as T;
  } catch (err) {
    // V8's message quotes the input: it stays in `cause`, never in the line shown.
    throw new InvalidContentError(`invalid ${what}: not JSON`, { cause: err });
  }
}

/** The error for a declared media type the document contradicts. */
function mismatch(declaredBy: string, declared: string, stated: string): InvalidContentError {
  return new InvalidContentError(`manifest media type mismatch: ${declaredBy} said ${shown(declared)}, the manifest says ${shown(stated)}`);
}

/**
 * Parses and validates a manifest or index: a JSON object, `schemaVersion` 2, either
 * `config` + `layers` (a manifest) or `manifests` (an index) of valid descriptors, an index's
 * entries of manifest or index types. The document decides its media type: its own `mediaType`
 * field, else the declared `mediaType` when that is of the document's kind, else OCI by shape.
 */
export function parseManifest(bytes: Uint8Array | string, mediaType?: string, opts: ParseManifestOptions = {}): ParsedManifest {
  const doc = parseJson<unknown>(bytes, 'manifest');
  if (!isObject(doc)) throw new InvalidContentError('invalid manifest: not a JSON object');
  if (doc['schemaVersion'] !== 2) throw new InvalidContentError('invalid manifest: unsupported schemaVersion (only 2 is supported)');
  const stated = doc['mediaType'];
  if (stated !== undefined && !isMediaType(stated)) throw new InvalidContentError('invalid manifest: its mediaType is malformed');
  const isIndex = doc['manifests'] !== undefined;
  const isImage = doc['config'] !== undefined || doc['layers'] !== undefined;
  if (isIndex === isImage) {
    throw new InvalidContentError(isIndex ? 'invalid manifest: it has both manifests and config/layers' : 'invalid manifest: neither an image manifest (config, layers) nor an index (manifests)');
  }
  if (stated !== undefined && !(isIndex ? isIndexType(stated) : isManifestType(stated))) {
    throw new InvalidContentError(`invalid manifest: media type ${shown(stated)} is not ${isIndex ? 'an image index or manifest list' : 'an image manifest'}`);
  }
  const declared = (mediaType ?? '').split(';')[0]!.trim().toLowerCase();
  if (opts.declaredBy !== undefined && stated !== undefined && !GENERIC_TYPES.has(declared) && declared !== stated) {
    throw mismatch(opts.declaredBy, declared, stated);
  }
  checkStringMap(doc['annotations'], 'manifest');
  if (isIndex) {
    const manifests = doc['manifests'];
    if (!Array.isArray(manifests)) throw new InvalidContentError('invalid index: manifests is not a list');
    manifests.forEach((m, i) => {
      const d = checkDescriptor(m, `index manifests[${i}]`);
      if (!isManifestType(d.mediaType) && !isIndexType(d.mediaType)) {
        throw new InvalidContentError(`invalid index: manifests[${i}] has media type ${shown(d.mediaType)}, not an image manifest or index`);
      }
    });
    const mt = stated ?? (isIndexType(declared) ? declared : OCI_INDEX);
    return { kind: 'index', mediaType: mt === DOCKER_MANIFEST_LIST ? mt : OCI_INDEX, index: doc as unknown as ImageIndex };
  }
  checkDescriptor(doc['config'], 'manifest config');
  const layers = doc['layers'];
  if (!Array.isArray(layers)) throw new InvalidContentError('invalid manifest: layers is not a list');
  layers.forEach((l, i) => checkDescriptor(l, `manifest layers[${i}]`));
  if (doc['subject'] !== undefined) checkDescriptor(doc['subject'], 'manifest subject');
  const mt = stated ?? (isManifestType(declared) ? declared : OCI_MANIFEST);
  return { kind: 'manifest', mediaType: mt === DOCKER_MANIFEST ? mt : OCI_MANIFEST, manifest: doc as unknown as ImageManifest };
}

/**
 * The media type of fetched manifest bytes: what the document decides (see {@link parseManifest}),
 * checked against the `Content-Type` the registry sent. Throws on invalid content and on a
 * Content-Type the document contradicts.
 */
export function manifestMediaType(bytes: Uint8Array | string, contentType: string | undefined): string {
  return parseManifest(bytes, contentType, { declaredBy: 'registry' }).mediaType;
}

/**
 * Parses and validates an image config blob: a JSON object with `architecture` and `os` strings
 * and `rootfs` `{ type: 'layers', diff_ids: [sha256 digests] }` (docker's `invalid rootfs in image
 * configuration` otherwise).
 */
export function parseConfig(bytes: Uint8Array | string): ImageConfig {
  const c = parseJson<unknown>(bytes, 'image config');
  if (!isObject(c)) throw new InvalidContentError('invalid image config: not a JSON object');
  const rootfs = c['rootfs'];
  if (!isObject(rootfs) || rootfs['type'] !== 'layers' || !Array.isArray(rootfs['diff_ids']) || !rootfs['diff_ids'].every((d) => isDigest(d))) {
    throw new InvalidContentError('invalid rootfs in image configuration (rootfs.type must be "layers", rootfs.diff_ids sha256 digests)');
  }
  if (typeof c['architecture'] !== 'string' || typeof c['os'] !== 'string') {
    throw new InvalidContentError('invalid image config: architecture and os must be strings');
  }
  return c as ImageConfig;
}

/**
 * Parses a config and checks it against its manifest: one `rootfs.diff_ids` entry per layer
 * (docker's `layers from manifest don't match image configuration` otherwise).
 */
export function parseConfigFor(bytes: Uint8Array | string, manifest: { readonly layers: readonly unknown[] }): ImageConfig {
  const config = parseConfig(bytes);
  const n = config.rootfs.diff_ids.length;
  if (n !== manifest.layers.length) {
    throw new InvalidContentError(`layers from manifest don't match image configuration: the manifest has ${manifest.layers.length} layers, rootfs.diff_ids ${n}`);
  }
  return config;
}

/** All blob descriptors a manifest references (config first, then layers). */
export function manifestBlobs(m: ImageManifest): Descriptor[] {
  return [m.config, ...m.layers];
}
