/** `ts-docker push NAME[:TAG]`: docker's push lines, live bars on a terminal, or NDJSON. */
import type { Command } from 'commander';
import { parsePlatform } from '../../image/platform.js';
import { push } from '../../ops/push.js';
import { openStore, out } from '../context.js';
import type { RemoteOptions } from '../remote.js';
import { parseSize, positiveInt, remote } from '../remote.js';

/** The first chunk's size by default; see README "Chunked uploads" for how it was chosen. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
/**
 * How far chunks grow by default while each takes under two seconds: 64 MiB pushes a 1 GiB
 * layer at what the registry can ingest (bench/README.md), and stays under the 100 MB body
 * limit of common CDNs in front of registries.
 */
export const DEFAULT_CHUNK_GROWTH = 64 * 1024 * 1024;

interface Opts extends RemoteOptions {
  allTags?: boolean;
  chunkSize?: string;
  maxConcurrentUploads?: string;
  platform?: string;
}

/** Runs `push`. */
export default async function run(cmd: Command, name: string, opts: Opts): Promise<void> {
  // A bad platform is refused before the store is opened or the network touched.
  const platform = opts.platform !== undefined ? parsePlatform(opts.platform) : undefined;
  const store = await openStore(cmd);
  const r = await remote(cmd, opts, 'push', false);
  const chosen = opts.chunkSize ?? r.settings.chunkSize;
  // A size the user chose is every chunk's size; by default chunks start at 16 MiB and grow.
  const chunkSize = parseSize(chosen ?? DEFAULT_CHUNK_SIZE, 'chunk size');
  const growChunksTo = chosen === undefined ? DEFAULT_CHUNK_GROWTH : undefined;
  const concurrency = positiveInt(opts.maxConcurrentUploads ?? r.settings.maxConcurrentUploads, 5, 'max concurrent uploads');
  await r.run(() => push(store, r.transport, name, {
    allTags: !!opts.allTags, platform, chunkSize, ...(growChunksTo ? { growChunksTo } : {}), concurrency, insecure: r.insecure, onEvent: (e) => r.render.event(e), signal: r.signal, stopping: r.stopping,
  }));
  if (opts.quiet) out(`${name}\n`);
}
