/** `save`: write images to a docker-archive tar (file or stream). */
import { open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
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
  await validateOutputPath(file);
  const tmp = `${file}.ts-docker-${process.pid}.tmp`;
  try {
    // Opened before writing starts, so an unwritable place is a plain rejection, not a stream 'error'.
    const fh = await open(tmp, 'w');
    const ws = fh.createWriteStream();
    await save(store, args, ws).catch((e: unknown) => {
      ws.destroy();
      throw e;
    });
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** docker's ValidateOutputPath: the folder must exist and the path must not be a folder. */
async function validateOutputPath(file: string): Promise<void> {
  const dir = dirname(resolve(file));
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`failed to save image: invalid output path: ${why}`);
  };
  const d = await stat(dir).catch(() => undefined);
  if (!d) fail(`directory "${dirname(file)}" does not exist`);
  else if (!d.isDirectory()) fail(`"${dirname(file)}" must be a directory`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) fail(`"${file}" is a directory`);
}
