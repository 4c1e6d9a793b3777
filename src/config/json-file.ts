/** Reading the small JSON config files (ours and docker's) the one way: errors name the file and never quote it. */
import { readFileSync } from 'node:fs';
import { ConfigFileError, jsonSyntaxReason } from './errors.js';

/** The parsed content of `path`; undefined when there is no such file, `{}` when it is empty. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigFileError(path, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // Not the parser's message alone, nor the error as a cause: V8 quotes the file around the fault.
    throw new ConfigFileError(path, `${path} is not valid JSON: ${jsonSyntaxReason(err)}`);
  }
}
