// A node's default logger: JSON lines through pino on stderr, bound to the node's name, at `warn`
// unless FDN_LOG_LEVEL says otherwise; FDN_LOG_FORMAT=text gives the text lines. A crash report
// is a structured record with the reason's message and stack.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { optionsFromEnvironment } from '../../src/index.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/log-node.ts', import.meta.url));

/** Runs the fixture (a node whose process crashes) and returns what it wrote to stderr; it must exit 0. */
function stderrOf(env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['--conditions=@fdn/source', '--import', 'tsx', FIXTURE], { env: { ...process.env, FDN_LOG_LEVEL: '', FDN_LOG_FORMAT: '', ...env }, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`the fixture exited ${String(r.status)}:\n${r.stderr}`);
  return r.stderr;
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the default logger of a node', () => {
  it('writes JSON lines with the node name, warnings and errors only; a crash report carries the reason with its stack', () => {
    const lines = jsonLines(stderrOf({}));
    const crash = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('crashed'));
    expect(crash, JSON.stringify(lines)).toMatchObject({ level: 'error', node: 'logged', reason: { name: 'Error', message: 'worker exploded' } });
    expect(String((crash?.reason as { stack?: string }).stack)).toContain('log-node.ts');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
  });

  it('FDN_LOG_LEVEL sets the level; FDN_LOG_FORMAT=text gives text lines', () => {
    expect(jsonLines(stderrOf({ FDN_LOG_LEVEL: 'info' })).map((l) => l.level)).toEqual(['info', 'warn', 'error']);
    expect(jsonLines(stderrOf({ FDN_LOG_LEVEL: 'error' })).map((l) => l.level)).toEqual(['error']);
    const text = stderrOf({ FDN_LOG_FORMAT: 'text' });
    expect(text).toMatch(/^ERROR process <[^>]+> crashed/m);
    expect(text).toContain('worker exploded');
  });

  it('a malformed FDN_LOG_LEVEL or FDN_LOG_FORMAT is FDN_ERR_BAD_CONFIG naming it', () => {
    expect(() => optionsFromEnvironment({ FDN_LOG_LEVEL: 'loud' })).toThrow(/FDN_LOG_LEVEL=loud: expected debug, info, warn or error/);
    expect(() => optionsFromEnvironment({ FDN_LOG_FORMAT: 'xml' })).toThrow(/FDN_LOG_FORMAT=xml/);
    expect(optionsFromEnvironment({ FDN_LOG_LEVEL: 'DEBUG', FDN_LOG_FORMAT: 'text' })).toEqual({ logLevel: 'debug', logFormat: 'text' });
  });
});
