// The owner records of store locks (src/store/process-id.ts): format, parsing, and when an owner counts as gone.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bootId, formatRecord, hostTag, ownRecord, parseRecord, processStartMs, recordState, startTicks, writerGone } from '../../../src/store/process-id.js';

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

describe('owner records', () => {
  it('round-trip and stay short enough for an inline symlink (< 60 bytes)', () => {
    const r = ownRecord();
    const text = formatRecord(r);
    expect(text.length).toBeLessThan(60);
    expect(parseRecord(text)).toEqual(r);
  });

  it.each([
    ['', undefined],
    ['1234', undefined],
    ['tsd1:12:', undefined],
    ['tsd1:12:34:abcd0123:deadbeef:0011aabb', { pid: 12, start: '34', boot: 'abcd0123', token: 'deadbeef', host: '0011aabb' }],
    ['tsd1:12::::', undefined],
    ['tsd1:12:::beef:', { pid: 12, start: '', boot: '', token: 'beef', host: '' }],
  ])('parseRecord(%j)', (text, want) => {
    expect(parseRecord(text)).toEqual(want);
  });

  it('this process is alive; a dead pid, a reused pid, another boot are gone; another host is respected', async () => {
    const me = ownRecord();
    expect(recordState(me)).toBe('alive');
    expect(recordState({ ...me, pid: await deadPid() })).toBe('dead');
    expect(recordState({ ...me, start: String(Number(me.start) + 1) })).toBe('dead');
    expect(recordState({ ...me, boot: me.boot === '00000000' ? '11111111' : '00000000' })).toBe('dead');
    expect(recordState({ ...me, pid: await deadPid(), host: hostTag() === 'ffffffff' ? 'eeeeeeee' : 'ffffffff' })).toBe('elsewhere');
  });

  it('reads /proc: start ticks, boot id, start time', () => {
    expect(startTicks(process.pid)).toMatch(/^\d+$/);
    expect(bootId()).toMatch(/^[0-9a-f]{8}$/);
    const started = processStartMs(process.pid)!;
    expect(started).toBeLessThanOrEqual(Date.now() + 2_000);
    expect(started).toBeGreaterThan(Date.now() - 24 * 3_600_000);
  });

  it('writerGone: a dead pid, or a live pid that started after the file was written', async () => {
    expect(writerGone(await deadPid(), Date.now())).toBe(true);
    expect(writerGone(process.pid, Date.now())).toBe(false);
    expect(writerGone(process.pid, Date.now() - 10 * 24 * 3_600_000)).toBe(true);
  });
});
