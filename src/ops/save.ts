/** `save`: write images to a docker-archive tar (file or stream). */
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { SaveImage } from '../archive/write-docker-archive.js';
import { writeDockerArchive } from '../archive/write-docker-archive.js';
import type { Descriptor } from '../image/descriptor.js';
import { parseReference } from '../reference/index.js';
import { reachableDescriptors } from '../store/gc.js';
import type { Store } from '../store/store.js';

/**
 * Resolves `args` as docker does: a name saves that name; a repository without a tag saves
 * every tag of it; an ID saves the image without names.
 */
export async function resolveSave(store: Store, args: string[]): Promise<SaveImage[]> {
  const index = await store.readIndex();
  const records = await store.images(index);
  const out = new Map<string, SaveImage>();
  const add = (r: (typeof records)[number], names: string[]): void => {
    const img = out.get(r.descriptor.digest) ?? { root: r.descriptor, manifest: r.manifest, names: [] };
    for (const n of names) if (!img.names.includes(n)) img.names.push(n);
    out.set(r.descriptor.digest, img);
  };
  for (const arg of args) {
    const repoOnly = tryRepoOnly(arg);
    const all = repoOnly ? records.flatMap((r) => r.names.filter((n) => parseReference(n).name === repoOnly).map((n) => ({ r, n }))) : [];
    if (all.length > 0) {
      for (const { r, n } of all) add(r, [n]);
      continue;
    }
    const found = await store.find(arg, index);
    add(found.record, found.name ? [found.name] : []);
  }
  return [...out.values()];
}

function tryRepoOnly(arg: string): string | undefined {
  try {
    const ref = parseReference(arg);
    return ref.tag === undefined && ref.digest === undefined ? ref.name : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the archive of `args` to `out`. */
export async function save(store: Store, args: string[], out: Writable): Promise<void> {
  const images = await resolveSave(store, args);
  const blobs: Descriptor[] = await reachableDescriptors(store.blobs, images.map((i) => i.root));
  await writeDockerArchive(images, blobs, store.blobs, out);
}

/** Writes the archive to `file` through a temp name, so a failed save leaves no half-written file. */
export async function saveToFile(store: Store, args: string[], file: string): Promise<void> {
  const tmp = `${file}.ts-docker-${process.pid}.tmp`;
  try {
    await save(store, args, createWriteStream(tmp));
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
