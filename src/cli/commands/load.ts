/** `ts-docker load [-i FILE]`: `Loaded image: NAME` per name, `Loaded image ID: sha256:...` when unnamed. */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { load } from '../../ops/load.js';
import { openStore, out } from '../context.js';
import { openInput } from '../open-file.js';
import { parsePlatforms } from '../../image/platform.js';

/** Runs `load`. */
export default async function run(cmd: Command, opts: { input?: string; quiet?: boolean; platform?: string[] }): Promise<void> {
  const platforms = parsePlatforms(opts.platform);
  let input;
  if (opts.input && opts.input !== '-') input = await openInput(opts.input);
  else if (process.stdin.isTTY) throw new InvalidArgumentError('requested load from stdin, but stdin is empty');
  else input = process.stdin;
  const events = await load(await openStore(cmd), input, { platforms });
  if (opts.quiet) return;
  for (const e of events) {
    if ('loaded' in e) out(`Loaded image: ${e.loaded}\n`);
    else if ('loadedId' in e) out(`Loaded image ID: ${e.loadedId}\n`);
    else out(`The image ${e.renamed.name} already exists, renaming the old one with ID ${e.renamed.oldId} to empty string\n`);
  }
}
