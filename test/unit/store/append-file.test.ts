// The partial-file writer of pulls: appends after what the file holds (a resumed download), counts
// what it appended, and fails the pipeline with the reason when the file cannot be opened.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AppendFile } from '../../../src/store/append-file.js';
import { makeSandbox } from '../../helpers/cli.js';

describe('AppendFile', () => {
  it('appends every chunk after the bytes already in the file and counts only its own', async () => {
    const path = join(await makeSandbox(), 'partial');
    await writeFile(path, 'resumed-');
    const file = new AppendFile(path);
    await pipeline(Readable.from([Buffer.from('abc'), Buffer.alloc(70_000, 1), Buffer.from('xyz')]), file);
    const bytes = await readFile(path);
    expect(bytes.length).toBe(8 + 3 + 70_000 + 3);
    expect(bytes.subarray(0, 11).toString()).toBe('resumed-abc');
    expect(bytes.subarray(-3).toString()).toBe('xyz');
    expect(file.bytesWritten).toBe(3 + 70_000 + 3);
  });

  it('a file that cannot be opened fails the pipeline with the reason', async () => {
    const path = join(await makeSandbox(), 'no-such-dir', 'partial');
    await expect(pipeline(Readable.from([Buffer.from('abc')]), new AppendFile(path))).rejects.toThrow(/ENOENT/);
  });
});
