/** `ts-docker logs CONTAINER`: the detached registry's log (its startup line and one line per request). */
import type { Command } from 'commander';
import { NotFoundError } from '../../errors.js';
import { containerLog, findContainer } from '../../server/containers.js';
import { globalsOf, out } from '../context.js';

/** Runs `logs`. */
export default async function run(cmd: Command, ref: string): Promise<void> {
  const c = await findContainer(globalsOf(cmd).root, ref);
  if (!c) throw new NotFoundError(`No such container: ${ref}`);
  const log = await containerLog(c);
  const tail = cmd.opts<{ tail?: string }>().tail;
  if (tail !== undefined && tail !== 'all') {
    const lines = log.split('\n');
    if (lines.at(-1) === '') lines.pop();
    out(lines.slice(-Number(tail)).map((l) => `${l}\n`).join(''));
    return;
  }
  out(log);
}
