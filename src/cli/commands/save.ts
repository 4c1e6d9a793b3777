/** `ts-docker save [-o FILE] IMAGE...`: a docker-archive tar to a file or to stdout. */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { parsePlatforms } from '../../image/platform.js';
import { save, saveToFile } from '../../ops/save.js';
import { archiveToStdout, openStore, stdioWriteError } from '../context.js';

/** Runs `save`. */
export default async function run(cmd: Command, images: string[], opts: { output?: string; platform?: string[] }): Promise<void> {
  const store = await openStore(cmd);
  const platforms = parsePlatforms(opts.platform);
  if (opts.output && opts.output !== '-') {
    await saveToFile(store, images, opts.output, { platforms });
    return;
  }
  if (process.stdout.isTTY) throw new InvalidArgumentError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  archiveToStdout();
  try {
    await save(store, images, process.stdout, { platforms });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A failed write to stdout (ENOSPC, EPIPE, EIO): one line, exit 1; our own errors pass as they are.
    if ((err as { exitCode?: unknown }).exitCode === undefined && typeof e?.code === 'string' && e.syscall === 'write') {
      throw new InvalidArgumentError(`failed to save image: ${stdioWriteError('stdout', e)}`);
    }
    throw err;
  }
}
