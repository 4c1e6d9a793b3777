/** `ts-docker save [-o FILE] IMAGE...`: a docker-archive tar to a file or to stdout. */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { save, saveToFile } from '../../ops/save.js';
import { openStore } from '../context.js';

/** Runs `save`. */
export default async function run(cmd: Command, images: string[], opts: { output?: string }): Promise<void> {
  const store = await openStore(cmd);
  if (opts.output && opts.output !== '-') {
    await saveToFile(store, images, opts.output);
    return;
  }
  if (process.stdout.isTTY) throw new InvalidArgumentError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  await save(store, images, process.stdout);
}
