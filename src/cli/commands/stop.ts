/** `ts-docker stop CONTAINER...` and `ts-docker rm [-f] CONTAINER...` for detached registries. */
import type { Command } from 'commander';
import { NotFoundError, ConflictError } from '../../errors.js';
import { findContainer, removeContainer, stopContainer } from '../../server/containers.js';
import { globalsOf, out } from '../context.js';

/** Runs `stop` (prints each argument, as docker does). */
export default async function run(cmd: Command, refs: string[]): Promise<void> {
  const opts = cmd.opts<{ time?: string }>();
  const root = globalsOf(cmd).root;
  for (const ref of refs) {
    const c = await findContainer(root, ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    await stopContainer(c, opts.time !== undefined ? Number(opts.time) * 1000 : undefined);
    out(`${ref}\n`);
  }
}

/** Runs `rm` (a running one only with -f). */
export async function rm(cmd: Command, refs: string[]): Promise<void> {
  const opts = cmd.opts<{ force?: boolean }>();
  const root = globalsOf(cmd).root;
  for (const ref of refs) {
    const c = await findContainer(root, ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    if (c.running && !opts.force) throw new ConflictError(`cannot remove container ${ref}: container is running: stop the container before removing or force remove`);
    await stopContainer(c);
    await removeContainer(c);
    out(`${ref}\n`);
  }
}
