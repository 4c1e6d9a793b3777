/** `ts-docker info`: store path, image, name, damaged image and blob counts, disk usage, leftovers of failed writers. */
import type { Command } from 'commander';
import { info } from '../../ops/info.js';
import { globalsOf, openStore, out } from '../context.js';
import { humanSize } from '../format/humanize.js';
import { Template } from '../format/template.js';
import { packageVersion } from '../version.js';

/** Runs `info`. */
export default async function run(cmd: Command, opts: { format?: string }): Promise<void> {
  const i = await info(await openStore(cmd));
  const g = globalsOf(cmd);
  if (opts.format) {
    out(`${new Template(opts.format).execute({ ...i, Config: g.config ?? '' })}\n`);
    return;
  }
  out([
    'Client: ts-docker',
    ` Version:        ${packageVersion()}`,
    'Store:',
    ` Root Dir:       ${i.root}`,
    ` Format:         OCI image layout 1.0.0`,
    ` Images:         ${i.images}`,
    ` Names:          ${i.names}`,
    ` Dangling:       ${i.dangling}`,
    ` Damaged:        ${i.damaged}${i.damaged > 0 ? ' (listed by images; remove with rmi)' : ''}`,
    ` Blobs:          ${i.blobs}`,
    ` Disk Usage:     ${humanSize(i.diskUsage)}`,
    ` Partial Pulls:  ${i.partialDownloads} (${humanSize(i.partialBytes)})`,
    ` Temp Files:     ${i.tempFiles} (${humanSize(i.tempBytes)})`,
    '',
  ].join('\n'));
}
