/** Reads a `ts-docker registry serve` storage root back and lists what is wrong with it. */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

async function ls(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Blobs whose bytes do not hash to their name, and tags naming a manifest that is not there. */
export async function storageProblems(root: string): Promise<{ corruptBlobs: string[]; danglingTags: string[] }> {
  const corruptBlobs: string[] = [];
  for (const hex of await ls(join(root, 'blobs', 'sha256'))) {
    const got = createHash('sha256').update(await readFile(join(root, 'blobs', 'sha256', hex))).digest('hex');
    if (got !== hex) corruptBlobs.push(hex);
  }
  const danglingTags: string[] = [];
  const walk = async (dir: string, name: string): Promise<void> => {
    for (const n of await ls(dir)) {
      if (n === '_manifests') {
        for (const t of await ls(join(dir, n, 'tags'))) {
          const d = (await readFile(join(dir, n, 'tags', t), 'utf8')).trim().replace(/^sha256:/, '');
          const ok = await stat(join(dir, n, 'revisions', d)).then(() => stat(join(root, 'blobs', 'sha256', d))).then(() => true, () => false);
          if (!ok) danglingTags.push(`${name}:${t}`);
        }
      } else if (!n.startsWith('_')) await walk(join(dir, n), name ? `${name}/${n}` : n);
    }
  };
  await walk(join(root, 'repositories'), '');
  return { corruptBlobs, danglingTags };
}
