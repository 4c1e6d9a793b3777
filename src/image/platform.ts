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

/** The platform images are run on here; images are Linux images even on other hosts. */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return architecture === 'arm' ? { os: 'linux', architecture, variant: 'v7' } : { os: 'linux', architecture };
}

/** Parses `os/arch[/variant]` (or `arch` alone) as docker's `--platform` does. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.toLowerCase().split('/');
  if (parts.some((p) => p === '') || parts.length > 3) {
    throw new InvalidArgumentError(`"${spec}": unknown operating system or architecture: invalid argument`);
  }
  const [a, b, c] = parts as [string, string?, string?];
  const p: Platform = b === undefined ? { os: 'linux', architecture: a } : { os: a, architecture: b };
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
