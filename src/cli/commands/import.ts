/** `ts-docker import FILE|DIR|- [REPOSITORY[:TAG]]`: prints the new image ID, like docker. */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { parsePlatform } from '../../image/platform.js';
import type { ImportSource } from '../../ops/import.js';
import { importImage } from '../../ops/import.js';
import { parseDockerRef } from '../../reference/index.js';
import { openStore, out } from '../context.js';
import { openInput } from '../open-file.js';

interface Opts {
  change?: string[];
  message?: string;
  platform?: string;
}

/** Runs `import`. */
export default async function run(cmd: Command, source: string, reference: string | undefined, opts: Opts): Promise<void> {
  if (/^https?:\/\//.test(source)) throw new InvalidArgumentError('importing from a URL is not supported: download the file and import it');
  // Bad names and platforms are refused before the input is opened (no file handle left behind).
  if (reference !== undefined) parseDockerRef(reference);
  if (opts.platform !== undefined) parsePlatform(opts.platform);
  let src: ImportSource;
  if (source === '-') src = { stream: process.stdin, label: '-' };
  else if ((await stat(source).catch(() => undefined))?.isDirectory()) src = { dir: source };
  else src = { stream: await openInput(source), label: source };
  const id = await importImage(await openStore(cmd), src, {
    reference,
    changes: opts.change ?? [],
    message: opts.message,
    platform: opts.platform,
  });
  out(`${id}\n`);
}
