/** `ts-docker copy [--platform P] [--no-referrers] SRC DST`: one copy pipeline between any two endpoints. */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { parsePlatform } from '../../image/platform.js';
import { copy } from '../../ops/copy.js';
import { openStore, out } from '../context.js';
import type { RemoteOptions } from '../remote.js';
import { parseSize, positiveInt, remote } from '../remote.js';
import { DEFAULT_CHUNK_GROWTH, DEFAULT_CHUNK_SIZE } from './push.js';

interface Opts extends RemoteOptions {
  all?: boolean;
  platform?: string;
  referrers?: boolean;
  chunkSize?: string;
  maxConcurrent?: string;
}

/** Runs `copy`. */
export default async function run(cmd: Command, src: string, dst: string, opts: Opts): Promise<void> {
  const store = await openStore(cmd);
  if (opts.all && opts.platform) throw new InvalidArgumentError('--all and --platform cannot be used together');
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const r = await remote(cmd, opts, 'copy', false);
  const chosen = opts.chunkSize ?? r.settings.chunkSize;
  const chunkSize = parseSize(chosen ?? DEFAULT_CHUNK_SIZE, 'chunk size');
  const growChunksTo = chosen === undefined ? DEFAULT_CHUNK_GROWTH : undefined;
  const concurrency = positiveInt(opts.maxConcurrent, 4, 'max concurrent transfers');
  const result = await r.run(() => copy(store, r.transport, src, dst, {
    platform, all: !!opts.all, referrers: opts.referrers !== false, concurrency, chunkSize, growChunksTo, insecure: r.insecure, onEvent: (e) => r.render.event(e), signal: r.signal, stopping: r.stopping,
  }));
  // As push -q: the digest copied is all -q prints.
  if (opts.quiet) out(`${result.digest}\n`);
}
