/** Platforms: this machine's, parsing `os/arch[/variant]`, and matching index entries. */
import { InvalidArgumentError } from '../errors.js';
import type { Platform } from './descriptor.js';

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

/** Go's GOOS values (containerd's isKnownOS). */
const KNOWN_OS = new Set('aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris windows zos'.split(' '));
/** Go's GOARCH values (containerd's isKnownArch). */
const KNOWN_ARCH = new Set(
  '386 amd64 amd64p32 arm armbe arm64 arm64be ppc64 ppc64le loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc riscv riscv64 s390 s390x sparc sparc64 wasm'.split(' '),
);

/** The platform images are run on here; images are Linux images even on other hosts. */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return architecture === 'arm' ? { os: 'linux', architecture, variant: 'v7' } : { os: 'linux', architecture };
}

/** `--platform` given once or more, each a comma-separated list (docker 28's save/load). */
export function parsePlatforms(specs: readonly string[] | undefined): Platform[] {
  return (specs ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '').map(parsePlatform);
}

/** Parses `os/arch[/variant]` (or `arch` alone) as docker's `--platform` does. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.toLowerCase().split('/');
  if (parts.some((p) => p === '') || parts.length > 3) {
    throw new InvalidArgumentError(`"${spec}": unknown operating system or architecture: invalid argument`);
  }
  const [a, b, c] = parts as [string, string?, string?];
  let p: Platform;
  if (b !== undefined) p = { os: a, architecture: b };
  // One part, as containerd's platforms.Parse reads it: an OS gets this machine's architecture,
  // an architecture gets linux, anything else is refused.
  else if (KNOWN_OS.has(a)) p = { ...hostPlatform(), os: a };
  else if (KNOWN_ARCH.has(a) || a === 'x86_64' || a === 'x86-64' || a === 'aarch64') p = { os: 'linux', architecture: a };
  else throw new InvalidArgumentError(`"${spec}": unknown operating system or architecture: invalid argument`);
  if (c !== undefined) p.variant = c;
  return normalizePlatform(p);
}

/** Applies containerd's normalization (x86_64 -> amd64, aarch64 -> arm64, arm64/v8 -> arm64). */
export function normalizePlatform(p: Platform): Platform {
  let { architecture, variant } = p;
  if (architecture === 'x86_64' || architecture === 'x86-64') architecture = 'amd64';
  if (architecture === 'aarch64') architecture = 'arm64';
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  const out: Platform = { os: p.os, architecture };
  if (variant) out.variant = variant;
  return out;
}

/** `os/arch[/variant]`, as docker prints a platform. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** True when an index entry's platform satisfies the wanted one (variant only if asked). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  const h = normalizePlatform(have);
  const w = normalizePlatform(want);
  if (h.os !== w.os || h.architecture !== w.architecture) return false;
  return w.variant === undefined || h.variant === w.variant || (h.variant === undefined && w.variant === 'v7');
}
