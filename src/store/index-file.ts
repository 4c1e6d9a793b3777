/** `index.json`: the store's names, read and updated under one lock with atomic writes. */
import { readFileSync } from 'node:fs';
import { InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import { REF_NAME_ANNOTATION, bareDescriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { OCI_INDEX } from '../image/media-types.js';
import { writeFileAtomic } from './atomic-write.js';

/** The layout's top-level index. */
export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Reads `index.json`; a corrupt file is an error, never silently replaced. */
export async function readIndexFile(path: string): Promise<OciIndex> {
  // Synchronous: one small file read at the start of every command (see BlobStore.read).
  const text = readFileSync(path, 'utf8');
  let doc: OciIndex;
  try {
    doc = JSON.parse(text) as OciIndex;
  } catch (err) {
    throw new InvalidContentError(`store index ${path} is not valid JSON`, { cause: err });
  }
  if (!doc || !Array.isArray(doc.manifests)) throw new InvalidContentError(`store index ${path} has no manifests list`);
  return doc;
}

/** Writes `index.json` atomically. */
export async function writeIndexFile(path: string, index: OciIndex): Promise<void> {
  const out: OciIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: index.manifests };
  if (index.annotations) out.annotations = index.annotations;
  await writeFileAtomic(path, `${JSON.stringify(out, null, 2)}\n`);
}

/** The full reference an entry is named by, or undefined for a dangling entry. */
export function entryName(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION];
}

/** The entries of an index that carry a name. */
export function namedEntries(index: OciIndex): Descriptor[] {
  return index.manifests.filter((d) => entryName(d) !== undefined);
}

/** True when some entry (named or dangling) points at `digest`. */
export function isReferenced(index: OciIndex, digest: Digest): boolean {
  return index.manifests.some((d) => d.digest === digest);
}

function keepDangling(index: OciIndex, old: Descriptor): void {
  if (!isReferenced(index, old.digest)) index.manifests.push(bareDescriptor(old));
}

/**
 * Points `fullRef` at `target`: replaces the entry that had that name (the image it named
 * stays as a dangling entry when nothing else names it, as docker does) and drops a
 * dangling entry of `target` that the new name makes redundant.
 */
export function setName(index: OciIndex, fullRef: string, target: Descriptor): void {
  const entry: Descriptor = { ...bareDescriptor(target), annotations: { [REF_NAME_ANNOTATION]: fullRef } };
  if (target.platform) entry.platform = target.platform;
  const at = index.manifests.findIndex((d) => entryName(d) === fullRef);
  const old = at >= 0 ? index.manifests[at] : undefined;
  index.manifests = index.manifests.filter((d, i) => i !== at && !(d.digest === target.digest && entryName(d) === undefined));
  index.manifests.push(entry);
  if (old && old.digest !== target.digest) keepDangling(index, old);
}

/** Removes the entry named `fullRef`; returns it, or undefined when there was none. */
export function removeName(index: OciIndex, fullRef: string): Descriptor | undefined {
  const at = index.manifests.findIndex((d) => entryName(d) === fullRef);
  if (at < 0) return undefined;
  const [old] = index.manifests.splice(at, 1);
  return old;
}

/** Removes every entry (named or dangling) pointing at `digest`; returns the names removed. */
export function removeImage(index: OciIndex, digest: Digest): string[] {
  const names = index.manifests.filter((d) => d.digest === digest).map(entryName).filter((n): n is string => !!n);
  index.manifests = index.manifests.filter((d) => d.digest !== digest);
  return names;
}
