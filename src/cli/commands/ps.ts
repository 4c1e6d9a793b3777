/** `ts-docker ps [-a] [-q] [--no-trunc]`: the detached registries `run -d` started. */
import type { Command } from 'commander';
import { listContainers } from '../../server/containers.js';
import { globalsOf, out } from '../context.js';
import { createdSince, humanDuration } from '../format/humanize.js';
import { tabwrite } from '../format/tabwriter.js';

/** Runs `ps`. */
export default async function run(cmd: Command): Promise<void> {
  const opts = cmd.opts<{ all?: boolean; quiet?: boolean; trunc?: boolean }>();
  const trunc = opts.trunc !== false;
  const all = (await listContainers(globalsOf(cmd).root)).filter((c) => opts.all || c.running);
  const id = (s: string): string => (trunc ? s.slice(0, 12) : s);
  if (opts.quiet) {
    out(all.map((c) => `${id(c.id)}\n`).join(''));
    return;
  }
  const now = Date.now();
  const rows = ['CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES'];
  for (const c of all) {
    const created = createdSince(new Date(c.created), now);
    const status = c.exit
      ? `Exited (${c.exit.code}) ${createdSince(new Date(c.exit.finishedAt), now)}`
      : `Up ${humanDuration(Math.max(0, now - Date.parse(c.created)))}`;
    const ports = c.running ? `${c.addr}->5000/tcp` : '';
    rows.push([id(c.id), c.image, '"ts-docker registry serve"', created, status, ports, c.name].join('\t'));
  }
  out(tabwrite(rows));
}
