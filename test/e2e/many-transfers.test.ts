// More blobs in flight than Node's default listener limit (10): every transfer listens on the one
// Ctrl-C AbortSignal, and that must not print a MaxListenersExceededWarning (there is no leak:
// each request removes its listener when it ends).
import { describe, expect, it } from 'vitest';
import { makeRoot } from '../helpers/cli.js';
import { makeImage } from '../helpers/images.js';
import { useRegistry } from '../helpers/registry-suite.js';
import { parsePull, parsePush, show, tsd } from '../helpers/remote-cli.js';

const env = useRegistry({ tools: ['skopeo'] });

describe('16 transfers at once', () => {
  it('push --max-concurrent-uploads 16 and pull --max-concurrent-downloads 16 of 16 layers: no warning', async () => {
    const root = await makeRoot();
    const name = `${env.host}/many-layers:16`;
    await makeImage(root, name, Array.from({ length: 16 }, (_, i) => ({ sizeMiB: 0.25, seed: 4000 + i })));

    const push = await tsd(['push', '--max-concurrent-uploads', '16', name], { root });
    expect(push.code, show(push)).toBe(0);
    expect(Object.values(parsePush(push.stdout).layers)).toEqual(Array(16).fill('Pushed'));
    expect(push.stderr).toBe('');

    const pull = await tsd(['pull', '--max-concurrent-downloads', '16', name], { root: await makeRoot() });
    expect(pull.code, show(pull)).toBe(0);
    expect(Object.values(parsePull(pull.stdout).layers)).toEqual(Array(16).fill('Pull complete'));
    expect(pull.stderr).toBe('');
  });
});
