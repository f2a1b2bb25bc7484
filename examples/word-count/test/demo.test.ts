// The README's main command, end to end: `npm run demo` starts three worker node processes,
// kills one mid-job, and must finish with the right count, nothing lost, exit code 0.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../src/demo.ts', import.meta.url));

describe('npm run demo', () => {
  it('counts every chunk correctly through the SIGKILL of a worker node, and exits 0', async () => {
    const child = spawn(process.execPath, ['--conditions=@fdn/source', '--import', 'tsx', DEMO], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, 60_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(out).toContain('SIGKILL node w2');
    expect(out).toMatch(/node w2 is down/);
    expect(out).toMatch(/respawned worker slot \d+ on w[13]/);
    expect(out).toMatch(/chunks counted\s+90\/90, none lost/);
    expect(out).toMatch(/result\s+correct: 36000 words/);
    expect(code, out).toBe(0);
  }, 70_000);
});
