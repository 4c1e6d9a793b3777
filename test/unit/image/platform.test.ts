// --platform parsing as docker (containerd's platforms.Parse) reads it.
import { describe, expect, it } from 'vitest';
import { hostPlatform, parsePlatform } from '../../../src/image/platform.js';

describe('parsePlatform', () => {
  it.each([
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/arm/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }],
    ['Linux/X86_64', { os: 'linux', architecture: 'amd64' }],
    ['arm64', { os: 'linux', architecture: 'arm64' }],
    ['aarch64', { os: 'linux', architecture: 'arm64' }],
  ])('%s', (spec, want) => {
    expect(parsePlatform(spec)).toEqual(want);
  });

  it('an OS alone gets this machine\'s architecture', () => {
    expect(parsePlatform('linux')).toEqual(hostPlatform());
    expect(parsePlatform('windows')).toEqual({ ...hostPlatform(), os: 'windows' });
  });

  it.each(['bogus', 'linux/', '/amd64', 'a/b/c/d', ''])('%j is refused with docker\'s message', (spec) => {
    expect(() => parsePlatform(spec)).toThrow(`"${spec}": unknown operating system or architecture: invalid argument`);
  });
});
