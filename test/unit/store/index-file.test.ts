import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../../../src/image/descriptor.js';
import { OCI_MANIFEST } from '../../../src/image/media-types.js';
import type { OciIndex } from '../../../src/store/index-file.js';
import { entryName, removeImage, removeName, setName } from '../../../src/store/index-file.js';

const d = (c: string): Descriptor => ({ mediaType: OCI_MANIFEST, digest: `sha256:${c.repeat(64)}`, size: 10 });
const A = d('a');
const B = d('b');
const idx = (): OciIndex => ({ schemaVersion: 2, manifests: [] });
const names = (i: OciIndex) => i.manifests.map((m) => [entryName(m) ?? '<none>', m.digest[7]]);

describe('index entries', () => {
  it('tag adds an entry with the same descriptor', () => {
    const i = idx();
    setName(i, 'docker.io/library/apa000ex22:latest', A);
    setName(i, 'zoozoo.coomm/nyapacchi:13', A);
    expect(names(i)).toEqual([['docker.io/library/apa000ex22:latest', 'a'], ['zoozoo.coomm/nyapacchi:13', 'a']]);
    expect(i.manifests[0]).toMatchObject({ digest: A.digest, size: A.size, mediaType: A.mediaType });
  });

  it('re-pointing the only name leaves the old image dangling', () => {
    const i = idx();
    setName(i, 'x:1', A);
    setName(i, 'x:1', B);
    expect(names(i)).toEqual([['x:1', 'b'], ['<none>', 'a']]);
  });

  it('re-pointing one of two names leaves no dangling entry', () => {
    const i = idx();
    setName(i, 'x:1', A);
    setName(i, 'x:2', A);
    setName(i, 'x:1', B);
    expect(names(i)).toEqual([['x:2', 'a'], ['x:1', 'b']]);
  });

  it('naming a dangling image replaces its unnamed entry', () => {
    const i: OciIndex = { schemaVersion: 2, manifests: [A] };
    setName(i, 'x:1', A);
    expect(names(i)).toEqual([['x:1', 'a']]);
  });

  it('removes names and whole images', () => {
    const i = idx();
    setName(i, 'x:1', A);
    setName(i, 'x:2', A);
    setName(i, 'y:1', B);
    expect(removeName(i, 'x:1')?.digest).toBe(A.digest);
    expect(removeName(i, 'nope')).toBeUndefined();
    expect(removeImage(i, A.digest)).toEqual(['x:2']);
    expect(names(i)).toEqual([['y:1', 'b']]);
  });
});
