/**
 * Colour on a terminal: "Error:" is red on a real pty (`script`), and NO_COLOR turns it off there,
 * as it does for docker (chalk alone reads only FORCE_COLOR).
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { BIN, SCRUBBED_ENV, makeRoot, requireBuilt, whichTool } from '../helpers/cli.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** What `ts-docker --root ROOT rmi nosuch` shows on a pty with `extra` in its environment. */
async function onTerminal(extra: Record<string, string>): Promise<{ code: number; screen: string }> {
  requireBuilt();
  const script = await whichTool('script');
  if (!script) throw new Error('missing tool script: run apt-get install -y bsdutils');
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
  // CI (set by CI systems and by .ci/run) makes chalk's detection say no colour even on a terminal.
  for (const k of [...SCRUBBED_ENV, 'NO_COLOR', 'CI']) if (!(k in extra)) delete env[k];
  const cmd = [process.execPath, BIN, '--root', await makeRoot(), 'rmi', 'nosuch'].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(script, ['-qec', cmd, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (b: Buffer) => (screen += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (screen += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, screen: screen.replace(/\r\n/g, '\n') }));
  });
}

it('an error on a terminal has a red "Error:"', async () => {
  const r = await onTerminal({});
  expect(r.code).toBe(1);
  expect(r.screen).toBe('\u001b[31mError:\u001b[39m No such image: nosuch:latest\n');
});

it('NO_COLOR=1 on a terminal: no colour codes', async () => {
  const r = await onTerminal({ NO_COLOR: '1' });
  expect(r.code).toBe(1);
  expect(r.screen).toBe('Error: No such image: nosuch:latest\n');
});

it('FORCE_COLOR wins over NO_COLOR', async () => {
  const r = await onTerminal({ NO_COLOR: '1', FORCE_COLOR: '1' });
  expect(r.screen).toBe('\u001b[31mError:\u001b[39m No such image: nosuch:latest\n');
});
