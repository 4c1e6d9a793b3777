/** `save`: write images to a docker-archive tar (file or stream). */
import type { Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { Writable } from 'node:stream';
import { AtomicFile } from '../archive/atomic-file.js';
import { DockerArchiveDestination } from '../archive/docker-archive.js';
import type { SaveImage } from '../archive/write-docker-archive.js';
import { copyImages } from '../copy/copy.js';
import type { Platform } from '../image/descriptor.js';
import { StoreSource } from '../store/endpoint.js';
import { parseReference } from '../reference/index.js';
import { exportRoot, imageLabel, usable } from '../store/images.js';
import type { Store } from '../store/store.js';
import { errnoText } from '../text/errno.js';

/**
 * Resolves `args` as docker does: a name saves that name; a repository without a tag saves
 * every tag of it; an ID saves the image without names.
 */
export async function resolveSave(store: Store, args: string[]): Promise<SaveImage[]> {
  const index = await store.readIndex();
  // Damaged images too: a repository with one damaged tag is an error naming it, not a smaller archive.
  const records = await store.storedImages(index);
  const out = new Map<string, SaveImage>();
  const add = (stored: (typeof records)[number], names: string[]): void => {
    const r = usable(stored, names[0]);
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

/** Options of `save`. */
export interface SaveOptions {
  /** Only this platform of a multi-platform image (its manifest becomes the image in the archive). */
  platforms?: Platform[] | undefined;
}

/**
 * Writes the archive of `args` to `out`: the copy pipeline from the store into a docker-archive
 * (archive/docker-archive.ts), every image in one archive, a blob shared by several once.
 */
export async function save(store: Store, args: string[], out: Writable, opts: SaveOptions = {}): Promise<void> {
  if ((opts.platforms?.length ?? 0) > 1) throw new InvalidArgumentError(`save --platform takes one platform here, not ${opts.platforms!.length}`);
  const platform = opts.platforms?.[0];
  const roots = [];
  for (const img of await resolveSave(store, args)) {
    // A multi-platform image goes whole (every platform must be in the store) or, with
    // --platform, as that platform's manifest alone.
    const record = usable(await store.image(img.root), img.names[0]);
    roots.push({ root: exportRoot(record, platform, imageLabel({ names: img.names, id: record.id }), 'save'), names: img.names });
  }
  await copyImages(new StoreSource(store), new DockerArchiveDestination(out), roots, { concurrency: 1 });
}

/**
 * Writes the archive to `file` through a temp name beside it, so a failed save leaves no
 * half-written file. Only a new or regular file is written (docker's `ValidateOutputPath`): a
 * device, FIFO or socket at `file` is refused before anything is opened, so `-o /dev/null` never
 * turns the device into a regular file and `-o FIFO` never blocks. A symlink is followed, as
 * docker follows it: the file it names is replaced (and its mode kept), the link stays.
 */
export async function saveToFile(store: Store, args: string[], file: string, opts: SaveOptions = {}): Promise<void> {
  const target = await validateOutputPath(file);
  let out: AtomicFile | undefined;
  try {
    // Opened before writing starts, so an unwritable place is a plain rejection, not a stream 'error'.
    out = await AtomicFile.create(target.path, target.mode ?? 0o666, target.mode !== undefined);
    await save(store, args, out.stream, opts);
    await out.commit();
  } catch (err) {
    await out?.discard();
    throw writeError(err, file);
  }
}

/** A failed write of the archive as one line naming the file (Go's `write FILE: no space left on device`). */
function writeError(err: unknown, file: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string' || !e.syscall || (err as { exitCode?: unknown }).exitCode !== undefined) return err;
  return new InvalidArgumentError(`failed to save image: ${e.syscall === 'open' ? 'open' : 'write'} ${file}: ${errnoText(e)}`);
}

/** What `stat` says a non-regular file is, in docker's words (`ValidateOutputPathFileMode`). */
function kindOf(st: Stats): string {
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'got a device';
  if (st.isFIFO()) return 'got a named pipe';
  if (st.isSocket()) return 'got a socket';
  return 'got an irregular file';
}

/** Follows symlinks at `file` (a dangling one names the file it would create, as open(2) does). */
async function followLinks(file: string): Promise<string> {
  let p = resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    const st = await lstat(p).catch(() => undefined);
    if (!st?.isSymbolicLink()) return p;
    p = resolve(dirname(p), await readlink(p));
  }
  throw new InvalidArgumentError(`failed to save image: open ${file}: too many levels of symbolic links`);
}

/**
 * docker's ValidateOutputPath: the folder must exist, and what is at the path (links followed)
 * must be nothing yet or a regular file. Returns the file to replace and its mode when it exists.
 */
async function validateOutputPath(file: string): Promise<{ path: string; mode?: number }> {
  const dir = dirname(resolve(file));
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`failed to save image: invalid output path: ${why}`);
  };
  const d = await stat(dir).catch(() => undefined);
  if (!d) fail(`directory "${dirname(file)}" does not exist`);
  else if (!d.isDirectory()) fail(`"${dirname(file)}" must be a directory`);
  const st = await stat(file).catch(() => undefined);
  if (st?.isDirectory()) fail(`"${file}" is a directory`);
  if (st && !st.isFile()) fail(`"${file}" must be a directory or a regular file: ${kindOf(st)}`);
  const path = await followLinks(file);
  if (!(await stat(dirname(path)).catch(() => undefined))?.isDirectory()) fail(`directory "${dirname(path)}" does not exist`);
  return st ? { path, mode: st.mode & 0o7777 } : { path };
}
