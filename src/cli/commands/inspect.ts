/** `ts-docker inspect IMAGE...`: docker's JSON array (4-space indent), or `-f TEMPLATE` per image. */
import type { Command } from 'commander';
import { inspect } from '../../ops/inspect.js';
import { globalsOf, openStore, out } from '../context.js';
import { Template } from '../format/template.js';
import { reportError } from '../main.js';

/** Runs `inspect`. */
export default async function run(cmd: Command, images: string[], opts: { format?: string }): Promise<void> {
  const { items, errors } = await inspect(await openStore(cmd), images);
  if (opts.format) {
    // docker runs the template on its typed struct, where the omitempty fields exist ("" when
    // unset); if that fails, on the raw JSON map, where a missing key prints <no value>.
    const source = opts.format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
    const [typed, raw] = [new Template(source), new Template(source, { maps: true })];
    for (const item of items) {
      let text: string;
      try {
        text = typed.execute({ Variant: '', OsVersion: '', ...item });
      } catch {
        text = raw.execute(item);
      }
      out(`${text}\n`);
    }
  } else {
    out(`${JSON.stringify(items, null, 4)}\n`);
  }
  for (const e of errors) process.exitCode = await reportError(e, globalsOf(cmd).debug);
}
