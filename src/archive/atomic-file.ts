/** A file written under a temp name beside its target and renamed into place only when complete. */
import { randomBytes } from 'node:crypto';
import { createWriteStream, fchmod, open as openCb, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';

const openFd = promisify(openCb);

/**
 * A file written under a temp name beside `target` and renamed into place by {@link commit}, so a
 * failed write never leaves a file (or half of one) at the target.
 */
export class AtomicFile {
  /** Removes the temp file if the process exits before commit or discard (a copy that threw). */
  private readonly onExit = (): void => {
    try {
      unlinkSync(this.tmp);
    } catch {
      // gone already
    }
  };

  private constructor(readonly target: string, private readonly tmp: string, readonly stream: Writable) {
    process.once('exit', this.onExit);
  }

  /**
   * Opens the temp file (`wx`: never through something planted at its name) with `mode` (the
   * umask applies), or exactly `mode` when `exact` (a replaced file keeps its mode).
   */
  static async create(target: string, mode = 0o644, exact = false): Promise<AtomicFile> {
    const path = resolve(target);
    const tmp = join(dirname(path), `.${basename(path)}.ts-docker-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    // A plain descriptor (not a FileHandle, which would close it when collected): the stream owns
    // it from here and closes it when it ends or fails.
    const fd = await openFd(tmp, 'wx', mode);
    if (exact) await promisify(fchmod)(fd, mode);
    return new AtomicFile(path, tmp, createWriteStream('', { fd, autoClose: true }));
  }

  /** Flushes the temp file (written and closed by its stream) to disk and renames it to the target. */
  async commit(): Promise<void> {
    process.off('exit', this.onExit);
    try {
      const fh = await open(this.tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(this.tmp, this.target);
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Removes the temp file. */
  async discard(): Promise<void> {
    process.off('exit', this.onExit);
    this.stream.destroy();
    await unlink(this.tmp).catch(() => undefined);
  }
}
