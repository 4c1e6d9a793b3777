/** A manifest as a referrer (OCI 1.1): its `subject`, `artifactType` and annotations, read from its bytes. */
import { InvalidContentError } from '../errors.js';
import type { Descriptor } from './descriptor.js';
import { isDigest } from './digest.js';
import { isMediaType, parseJson, parseManifest } from './manifest.js';

/** What a manifest says about itself as a referrer. */
export interface ReferrerInfo {
  /** The manifest's `subject`, when it has one. */
  subject?: Descriptor;
  /** `artifactType`, else (an image manifest) its config's media type; absent for an index without one. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON object of strings (annotations). */
export function isStringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((s) => typeof s === 'string');
}

/**
 * One entry of a referrers index, checked (media type, digest, size; artifactType and
 * annotations when present) and copied with exactly those fields; undefined when malformed.
 */
export function referrerEntry(v: unknown): Descriptor | undefined {
  if (!isObject(v) || !isMediaType(v['mediaType']) || !isDigest(v['digest'])) return undefined;
  const size = v['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  const at = v['artifactType'];
  if (at !== undefined && !isMediaType(at)) return undefined;
  const ann = v['annotations'];
  if (ann !== undefined && !isStringMap(ann)) return undefined;
  return { mediaType: v['mediaType'], digest: v['digest'], size, ...(at !== undefined ? { artifactType: at } : {}), ...(ann !== undefined ? { annotations: { ...ann } } : {}) };
}

/**
 * What manifest `bytes` say as a referrer: `subject`, `artifactType` (an image manifest without
 * one falls back to its config's media type, as the spec has it), annotations. Validates them.
 */
export function referrerInfo(bytes: Uint8Array | string): ReferrerInfo {
  const parsed = parseManifest(bytes);
  const doc = parseJson<Record<string, unknown>>(bytes, 'manifest');
  const subject = doc['subject'];
  // parseManifest checks an image manifest's subject, not an index's: checked here for both.
  const subj = subject === undefined ? undefined : referrerEntry(subject);
  if (subject !== undefined && !subj) throw new InvalidContentError('invalid manifest: its subject is not a valid descriptor');
  const own = doc['artifactType'];
  // The spec treats an empty artifactType as a missing one.
  if (own !== undefined && own !== '' && !isMediaType(own)) throw new InvalidContentError('invalid manifest: its artifactType is malformed');
  const artifactType = (own as string | undefined) || (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  const ann = doc['annotations'];
  return { ...(subj ? { subject: subj } : {}), ...(artifactType ? { artifactType } : {}), ...(isStringMap(ann) ? { annotations: { ...ann } } : {}) };
}

