/** `ts-docker logout [SERVER]`: removes stored credentials, with docker's texts. */
import type { Command } from 'commander';
import { logout } from '../../ops/login.js';
import { globalsOf, out } from '../context.js';

/** Runs `logout`. */
export default async function run(cmd: Command, server: string | undefined): Promise<void> {
  const r = await logout(server, { configDir: globalsOf(cmd).config });
  if (!r.removed && !r.dockerConfigStillHas) {
    out(`Not logged in to ${r.key}\n`);
    return;
  }
  if (r.removed) out(`Removing login credentials for ${r.key}\n`);
  if (r.dockerConfigStillHas) {
    // ts-docker reads docker's config.json but never edits it.
    process.stderr.write(`Note: ${r.dockerConfigStillHas} still holds credentials for ${r.key} (docker's file, only read by ts-docker): run docker logout ${r.key} to remove them\n`);
  }
}
