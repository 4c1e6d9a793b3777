/** `ts-docker version`. */
import type { Command } from 'commander';
import { hostPlatform } from '../../image/platform.js';
import { out } from '../context.js';
import { Template } from '../format/template.js';
import { packageVersion } from '../version.js';

/** Runs `version`. */
export default async function run(_cmd: Command, opts: { format?: string }): Promise<void> {
  const info = {
    Client: {
      Version: packageVersion(),
      NodeVersion: process.versions.node,
      Os: process.platform,
      Arch: hostPlatform().architecture,
    },
  };
  if (opts.format) {
    out(`${new Template(opts.format).execute(info)}\n`);
    return;
  }
  out(`Client: ts-docker\n Version:      ${info.Client.Version}\n Node version: ${info.Client.NodeVersion}\n OS/Arch:      ${info.Client.Os}/${info.Client.Arch}\n`);
}
