/** `ts-docker rmi [-f] IMAGE...`: `Untagged:` / `Deleted:` lines; failures on stderr, exit 1. */
import type { Command } from 'commander';
import { rmi } from '../../ops/rmi.js';
import { globalsOf, openStore, out } from '../context.js';
import { reportError } from '../main.js';

/** Runs `rmi`. */
export default async function run(cmd: Command, images: string[], opts: { force?: boolean }): Promise<void> {
  const results = await rmi(await openStore(cmd), images, { force: !!opts.force });
  let code = 0;
  for (const r of results) {
    for (const e of r.events) out('untagged' in e ? `Untagged: ${e.untagged}\n` : `Deleted: ${e.deleted}\n`);
    if (r.error !== undefined) code = await reportError(r.error, globalsOf(cmd).debug);
  }
  if (code !== 0) process.exitCode = code;
}
