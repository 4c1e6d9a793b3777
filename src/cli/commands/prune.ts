/** `ts-docker image prune [-a] [-f]`: docker's prompt, `Deleted Images:` list and reclaimed total. */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { prune } from '../../ops/prune.js';
import { openStore, out } from '../context.js';
import { humanSize } from '../format/humanize.js';

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

/** Runs `image prune`. */
export default async function run(cmd: Command, opts: { all?: boolean; force?: boolean }): Promise<void> {
  if (!opts.force) {
    const warning = opts.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(`${warning}\nAre you sure you want to continue? [y/N] `))) return;
  }
  const result = await prune(await openStore(cmd), { all: !!opts.all });
  if (result.deleted.length > 0) {
    out('Deleted Images:\n');
    for (const u of result.untagged) out(`untagged: ${u}\n`);
    for (const d of result.deleted) out(`deleted: ${d}\n`);
    out('\n');
  }
  out(`Total reclaimed space: ${humanSize(result.reclaimed)}\n`);
}
