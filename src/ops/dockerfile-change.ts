/** `import --change`: the Dockerfile instructions docker accepts there, applied to a config. */
import { InvalidArgumentError } from '../errors.js';
import type { ContainerConfig } from '../image/config.js';

/** Splits `K=V "K 2"="v w"` words, honouring double quotes and backslash escapes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      any = true;
    } else if (c === '"') {
      quoted = !quoted;
      any = true;
    } else if (/\s/.test(c) && !quoted) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

function jsonOrShell(rest: string): string[] {
  if (rest.trim().startsWith('[')) {
    try {
      const arr = JSON.parse(rest) as unknown;
      if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return arr;
    } catch {
      // shell form below, as docker falls back
    }
  }
  return ['/bin/sh', '-c', rest.trim()];
}

function pairs(rest: string, instr: string): [string, string][] {
  const ws = words(rest);
  if (ws.length === 0) throw new InvalidArgumentError(`${instr} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    const [key, ...value] = rest.trim().split(/\s+/);
    return [[key!, value.join(' ')]];
  }
  return ws.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`${instr} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies one `--change` instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL). */
export function applyChange(config: ContainerConfig, change: string): void {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(change);
  if (!m) throw new InvalidArgumentError(`invalid change "${change}"`);
  const instr = m[1]!.toUpperCase();
  const rest = m[2]!;
  switch (instr) {
    case 'CMD': config.Cmd = jsonOrShell(rest); break;
    case 'ENTRYPOINT': config.Entrypoint = jsonOrShell(rest); break;
    case 'ENV': {
      const env = (config.Env ?? []).slice();
      for (const [k, v] of pairs(rest, 'ENV')) {
        const at = env.findIndex((e) => e.split('=')[0] === k);
        if (at >= 0) env[at] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      config.Env = env;
      break;
    }
    case 'LABEL': {
      const labels = { ...(config.Labels ?? {}) };
      for (const [k, v] of pairs(rest, 'LABEL')) labels[k] = v;
      config.Labels = labels;
      break;
    }
    case 'EXPOSE': {
      const ports: Record<string, object> = { ...(config.ExposedPorts ?? {}) };
      for (const p of words(rest)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
      config.ExposedPorts = ports;
      break;
    }
    case 'VOLUME': {
      const vols: Record<string, object> = { ...(config.Volumes ?? {}) };
      for (const v of rest.trim().startsWith('[') ? jsonOrShell(rest) : words(rest)) vols[v] = {};
      config.Volumes = vols;
      break;
    }
    case 'USER': config.User = rest.trim(); break;
    case 'WORKDIR': config.WorkingDir = rest.trim(); break;
    case 'STOPSIGNAL': config.StopSignal = rest.trim(); break;
    default:
      throw new InvalidArgumentError(`${instr} is not a valid change command`);
  }
}
