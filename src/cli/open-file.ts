/** Opening the user's input files with docker's wording when they are missing. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';

/** Opens `path` for reading; a missing or unreadable file is a one-line user error. */
export async function openInput(path: string): Promise<Readable> {
  try {
    const fh = await open(path, 'r');
    if ((await fh.stat()).isDirectory()) {
      await fh.close();
      throw new InvalidArgumentError(`read ${path}: is a directory`);
    }
    return createReadStream(path, { fd: fh, autoClose: true });
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new InvalidArgumentError(`open ${path}: ${why}`);
  }
}
