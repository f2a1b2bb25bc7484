// Guards the layering of DESIGN.md: imports point down only, and each package's public API is
// its `exports` map with one entry point.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Which @fdn packages each package may import (DESIGN.md "Layers"). */
const ALLOWED: Record<string, string[]> = {
  '@fdn/core': [],
  '@fdn/actors': ['@fdn/core'],
  '@fdn/topology': ['@fdn/core'],
  '@fdn/distribution': ['@fdn/core', '@fdn/actors', '@fdn/topology'],
};

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const packages = readdirSync(packagesDir).map((dir) => {
  const manifest = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, unknown>;
    dependencies?: Record<string, string>;
  };
  return { dir, manifest };
});

describe('layering', () => {
  it('every package is known to the layering table', () => {
    for (const { manifest } of packages) expect(Object.keys(ALLOWED)).toContain(manifest.name);
  });

  for (const { dir, manifest } of packages) {
    it(`${manifest.name} imports only the layers below it`, () => {
      const allowed = new Set(ALLOWED[manifest.name]);
      for (const file of sourceFiles(join(packagesDir, dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const match of text.matchAll(/from\s+'(@fdn\/[a-z-]+)/g)) {
          const target = match[1] as string;
          expect.soft(allowed.has(target), `${file} imports ${target}`).toBe(true);
        }
      }
      for (const dep of Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@fdn/'))) {
        expect(allowed.has(dep), `${manifest.name} depends on ${dep}`).toBe(true);
      }
    });

    it(`${manifest.name} exposes one code entry point through its exports map (plus data files)`, () => {
      const code = Object.keys(manifest.exports).filter((k) => !k.endsWith('.json'));
      expect(code).toEqual(['.']);
      const main = manifest.exports['.'] as Record<string, string>;
      expect(main['@fdn/source']).toBe('./src/index.ts');
      expect(main.types).toBe('./dist/index.d.ts');
      expect(main.default).toBe('./dist/index.js');
    });
  }
});
