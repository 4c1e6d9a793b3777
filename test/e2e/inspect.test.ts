// `inspect`: docker's image JSON, checked against the config blob in the layout.
import { beforeEach, describe, expect, it } from 'vitest';
import { FULL_ID, expectExit, expectOneLineError, loadFixture, makeRoot, runCli, runOk, short } from '../helpers/cli.js';
import { configOf } from '../helpers/layout.js';

let root: string;
let id: string;

beforeEach(async () => {
  root = await makeRoot();
  id = await loadFixture(root);
});

interface Inspected {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Architecture: string;
  Os: string;
  Size: number;
  Config: Record<string, unknown>;
  RootFS: { Type: string; Layers: string[] };
}

async function inspect(...args: string[]): Promise<Inspected[]> {
  const r = await runCli(['inspect', ...args], { root });
  expectExit(r, 0);
  const parsed = JSON.parse(r.stdout) as unknown;
  expect(Array.isArray(parsed)).toBe(true);
  return parsed as Inspected[];
}

describe('inspect', () => {
  it('prints a JSON array with docker image fields, true to the config blob', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const [img, ...rest] = await inspect('apa000ex22');
    expect(rest).toEqual([]);
    const config = await configOf(root, 'docker.io/library/apa000ex22:latest');
    expect(img!.Id).toMatch(FULL_ID);
    expect(img!.Id).toBe(id);
    expect(img!.RepoTags[0]).toBe('apa000ex22:latest');
    expect([...img!.RepoTags].sort()).toEqual(['apa000ex22:latest', 'zoozoo.coomm/nyapacchi:13']);
    expect(Array.isArray(img!.RepoDigests)).toBe(true);
    for (const d of img!.RepoDigests) expect(d).toMatch(/^[^@]+@sha256:[0-9a-f]{64}$/);
    expect(Date.parse(img!.Created)).toBe(Date.parse(config.created!));
    expect(img!.Architecture).toBe(config.architecture);
    expect(img!.Os).toBe(config.os);
    expect(img!.Os).toBe('linux');
    expect(typeof img!.Size).toBe('number');
    expect(img!.Size).toBeGreaterThan(0);
    expect(typeof img!.Config).toBe('object');
    expect(img!.Config['Cmd']).toEqual(config.config?.['Cmd']);
    expect(img!.RootFS).toEqual({ Type: 'layers', Layers: config.rootfs!.diff_ids });
    expect(img!.RootFS.Layers.length).toBeGreaterThan(0);
  });

  it('finds the image by ID, by ID prefix and by another name', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    for (const ref of [id, short(id), 'zoozoo.coomm/nyapacchi:13']) {
      const [img] = await inspect(ref);
      expect(img!.Id).toBe(id);
    }
  });

  it('-f runs on docker\'s typed fields first (Variant is "" when unset), then on the raw JSON (<no value>)', async () => {
    const typed = await runCli(['inspect', '-f', '{{.Os}}/{{.Architecture}}|{{.Variant}}|{{.RootFS.Type}}', 'apa000ex22'], { root });
    expectExit(typed, 0);
    expect(typed.stdout).toMatch(/^linux\/\w+\|\|layers\n$/);
    // A field docker's struct does not have: the whole template runs on the JSON, where the
    // omitted Variant is missing too.
    const raw = await runCli(['inspect', '-f', '{{.Variant}}|{{.Os}}|{{.NoSuchField}}', 'apa000ex22'], { root });
    expectExit(raw, 0);
    expect(raw.stdout).toBe('<no value>|linux|<no value>\n');
  });

  it('an unknown image fails with "No such image"', async () => {
    const r = await runCli(['inspect', 'nosuch'], { root });
    expectOneLineError(r, 'No such image');
    expect(r.stderr).toContain('nosuch');
  });
});
