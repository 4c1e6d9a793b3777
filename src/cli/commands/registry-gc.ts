/** `ts-docker registry gc [--dry-run] --root DIR`: removes blobs no manifest reaches (server stopped). */
import type { Command } from 'commander';
import { collectGarbage } from '../../server/gc.js';
import { out } from '../context.js';
import { defaultRegistryRoot } from './registry-serve.js';

/** Runs `registry gc`. */
export default async function run(cmd: Command): Promise<void> {
  const opts = cmd.opts<{ root?: string; dryRun?: boolean }>();
  const root = opts.root ?? cmd.optsWithGlobals<{ root?: string }>().root ?? defaultRegistryRoot();
  const r = await collectGarbage(root, { dryRun: !!opts.dryRun });
  for (const d of r.removed) out(`${opts.dryRun ? 'would delete' : 'deleted'} blob ${d}\n`);
  out(`${r.removed.length} blobs ${opts.dryRun ? 'eligible for deletion' : 'deleted'}, ${r.tempFiles} temp files ${opts.dryRun ? 'found' : 'removed'}\n`);
}
