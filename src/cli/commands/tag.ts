/** `ts-docker tag SOURCE TARGET`: prints nothing on success, like docker. */
import type { Command } from 'commander';
import { tag } from '../../ops/tag.js';
import { openStore } from '../context.js';

/** Runs `tag`. */
export default async function run(cmd: Command, source: string, target: string): Promise<void> {
  await tag(await openStore(cmd), source, target);
}
