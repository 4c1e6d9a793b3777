/** `ts-docker pull NAME[:TAG|@DIGEST]`: docker's pull lines, live bars on a terminal, or NDJSON. */
import type { Command } from 'commander';
import { parsePlatform } from '../../image/platform.js';
import { pull } from '../../ops/pull.js';
import { parseReference } from '../../reference/index.js';
import { openStore, out } from '../context.js';
import type { RemoteOptions } from '../remote.js';
import { positiveInt, remote } from '../remote.js';

interface Opts extends RemoteOptions {
  allTags?: boolean;
  platform?: string;
  maxConcurrentDownloads?: string;
}

/** Runs `pull`. */
export default async function run(cmd: Command, name: string, opts: Opts): Promise<void> {
  const store = await openStore(cmd);
  const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
  const r = await remote(cmd, opts, 'pull', true);
  const concurrency = positiveInt(opts.maxConcurrentDownloads ?? r.settings.maxConcurrentDownloads, 3, 'max concurrent downloads');
  const names = await r.run(() => pull(store, r.transport, name, {
    allTags: !!opts.allTags, platform, concurrency, insecure: r.insecure, onEvent: (e) => r.render.event(e), signal: r.signal,
  }));
  // docker ends with the full name; with -q that is all it prints.
  out(`${opts.allTags ? parseReference(name).name : names.at(-1)}\n`);
}
