/** `ts-docker push NAME[:TAG]`: docker's push lines, live bars on a terminal, or NDJSON. */
import type { Command } from 'commander';
import { push } from '../../ops/push.js';
import { openStore, out } from '../context.js';
import type { RemoteOptions } from '../remote.js';
import { parseSize, positiveInt, remote } from '../remote.js';

/** Default upload chunk size; see README "Chunked uploads" for how it was chosen. */
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

interface Opts extends RemoteOptions {
  allTags?: boolean;
  chunkSize?: string;
  maxConcurrentUploads?: string;
}

/** Runs `push`. */
export default async function run(cmd: Command, name: string, opts: Opts): Promise<void> {
  const store = await openStore(cmd);
  const r = await remote(cmd, opts, 'Preparing', false);
  const chunkSize = parseSize(opts.chunkSize ?? r.settings.chunkSize ?? DEFAULT_CHUNK_SIZE, 'chunk size');
  const concurrency = positiveInt(opts.maxConcurrentUploads ?? r.settings.maxConcurrentUploads, 5, 'max concurrent uploads');
  await r.run(() => push(store, r.transport, name, {
    allTags: !!opts.allTags, chunkSize, concurrency, insecure: r.insecure, onEvent: (e) => r.render.event(e), signal: r.signal, stopping: r.stopping,
  }));
  if (opts.quiet) out(`${name}\n`);
}
