// The one validation of manifests, indexes and configs (src/image/manifest.ts), and how the
// body decides a manifest's media type against what a registry or an index declared.
import { describe, expect, it } from 'vitest';
import { InvalidContentError } from '../../../src/errors.js';
import { manifestMediaType, parseConfig, parseConfigFor, parseManifest } from '../../../src/image/manifest.js';

const D = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const OCI_M = 'application/vnd.oci.image.manifest.v1+json';
const OCI_I = 'application/vnd.oci.image.index.v1+json';
const DOCKER_M = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_L = 'application/vnd.docker.distribution.manifest.list.v2+json';

const manifest = (edit: (m: Record<string, unknown>) => void = () => undefined): string => {
  const m: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: OCI_M,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D(1), size: 10 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D(2), size: 20 }],
  };
  edit(m);
  return JSON.stringify(m);
};
const index = (edit: (m: Record<string, unknown>) => void = () => undefined): string => {
  const m: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: OCI_I,
    manifests: [{ mediaType: OCI_M, digest: D(3), size: 30, platform: { architecture: 'amd64', os: 'linux' } }],
  };
  edit(m);
  return JSON.stringify(m);
};
const config = (edit: (c: Record<string, unknown>) => void = () => undefined): string => {
  const c: Record<string, unknown> = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D(4)] } };
  edit(c);
  return JSON.stringify(c);
};

const refused = (f: () => unknown, text: string): void => {
  expect(f).toThrow(InvalidContentError);
  expect(f).toThrow(text);
};

describe('parseManifest', () => {
  it('accepts an OCI manifest and index, and Docker ones', () => {
    expect(parseManifest(manifest()).kind).toBe('manifest');
    expect(parseManifest(index()).kind).toBe('index');
    expect(parseManifest(manifest((m) => (m['mediaType'] = DOCKER_M))).mediaType).toBe(DOCKER_M);
    expect(parseManifest(index((m) => (m['mediaType'] = DOCKER_L))).mediaType).toBe(DOCKER_L);
  });

  it('refuses what is not a schemaVersion 2 manifest or index', () => {
    refused(() => parseManifest('{oops'), 'invalid manifest: not JSON');
    refused(() => parseManifest('[]'), 'not a JSON object');
    refused(() => parseManifest(manifest((m) => (m['schemaVersion'] = 1))), 'unsupported schemaVersion');
    refused(() => parseManifest(JSON.stringify({ schemaVersion: 2 })), 'neither an image manifest');
    refused(() => parseManifest(manifest((m) => (m['manifests'] = []))), 'both manifests and config/layers');
    refused(() => parseManifest(manifest((m) => (m['mediaType'] = OCI_I))), 'is not an image manifest');
    refused(() => parseManifest(manifest((m) => (m['mediaType'] = 'not a type'))), 'mediaType is malformed');
    refused(() => parseManifest(manifest((m) => (m['layers'] = {}))), 'layers is not a list');
  });

  it('refuses bad descriptors, naming where', () => {
    refused(() => parseManifest(manifest((m) => (m['config'] = null))), 'manifest config: not an object');
    refused(() => parseManifest(manifest((m) => ((m['layers'] as object[])[0] = { mediaType: 'a/b', digest: 'sha256:x', size: 1 }))), 'layers[0]: digest');
    refused(() => parseManifest(manifest((m) => ((m['layers'] as object[])[0] = { mediaType: 'a/b', digest: D(2), size: 1.5 }))), 'layers[0]: size');
    refused(() => parseManifest(manifest((m) => ((m['layers'] as object[])[0] = { digest: D(2), size: 1 }))), 'media type is missing');
    refused(() => parseManifest(manifest((m) => ((m['layers'] as object[])[0] = { mediaType: 'a/b', digest: D(2), size: 1, annotations: { x: 1 } }))), 'annotations');
    refused(() => parseManifest(index((m) => ((m['manifests'] as object[])[0] = { mediaType: 'text/html', digest: D(2), size: 1 }))), 'manifests[0] has media type text/html');
    refused(() => parseManifest(index((m) => ((m['manifests'] as object[])[0] = { mediaType: OCI_M, digest: D(2), size: 1, platform: { os: 'linux' } }))), 'platform');
  });

  it('escapes control characters of network text in messages', () => {
    const f = (): unknown => parseManifest(manifest((m) => ((m['layers'] as object[])[0] = { mediaType: 'a/b\u001b[31m', digest: D(2), size: 1 })));
    refused(f, 'a/b\\x1b[31m');
  });
});

describe('the media type: the body decides', () => {
  it('a Content-Type the body contradicts is an error', () => {
    refused(() => manifestMediaType(manifest(), DOCKER_L), `manifest media type mismatch: registry said ${DOCKER_L}, the manifest says ${OCI_M}`);
    refused(() => manifestMediaType(manifest(), `${DOCKER_M}; charset=utf-8`), 'registry said application/vnd.docker.distribution.manifest.v2+json');
    refused(() => parseManifest(manifest(), DOCKER_M, { declaredBy: 'the index' }), 'the index said');
  });

  it('agreeing and generic Content-Types are fine', () => {
    expect(manifestMediaType(manifest(), OCI_M)).toBe(OCI_M);
    expect(manifestMediaType(manifest(), `${OCI_M}; charset=utf-8`)).toBe(OCI_M);
    expect(manifestMediaType(manifest(), 'application/json')).toBe(OCI_M);
    expect(manifestMediaType(manifest(), undefined)).toBe(OCI_M);
  });

  it('a body without mediaType takes a Content-Type of its kind, else OCI by shape', () => {
    const bare = manifest((m) => delete m['mediaType']);
    expect(manifestMediaType(bare, DOCKER_M)).toBe(DOCKER_M);
    expect(manifestMediaType(bare, DOCKER_L)).toBe(OCI_M);
    expect(manifestMediaType(bare, 'application/json')).toBe(OCI_M);
    const bareIndex = index((m) => delete m['mediaType']);
    expect(manifestMediaType(bareIndex, DOCKER_L)).toBe(DOCKER_L);
    expect(manifestMediaType(bareIndex, OCI_M)).toBe(OCI_I);
  });

  it('without declaredBy the body wins silently (what the store holds is read, not judged)', () => {
    expect(parseManifest(manifest(), DOCKER_L).mediaType).toBe(OCI_M);
  });
});

describe('parseConfig / parseConfigFor', () => {
  it('accepts a config', () => {
    expect(parseConfig(config()).rootfs.diff_ids).toEqual([D(4)]);
    expect(parseConfigFor(config(), { layers: [{}] }).os).toBe('linux');
  });

  it('refuses what docker cannot use', () => {
    refused(() => parseConfig('nope'), 'invalid image config: not JSON');
    refused(() => parseConfig('"a string"'), 'not a JSON object');
    refused(() => parseConfig(config((c) => delete c['rootfs'])), 'invalid rootfs in image configuration');
    refused(() => parseConfig(config((c) => (c['rootfs'] = { type: 'other', diff_ids: [] }))), 'invalid rootfs');
    refused(() => parseConfig(config((c) => (c['rootfs'] = { type: 'layers', diff_ids: ['sha256:short'] }))), 'invalid rootfs');
    refused(() => parseConfig(config((c) => (c['os'] = 3))), 'architecture and os must be strings');
    refused(() => parseConfigFor(config(), { layers: [] }), "layers from manifest don't match image configuration: the manifest has 0 layers, rootfs.diff_ids 1");
  });

  it('never quotes the input in a JSON error', () => {
    try {
      parseConfig('{"secret": tokenABC');
    } catch (err) {
      expect((err as Error).message).not.toContain('tokenABC');
    }
  });
});
