// Guards the layering of DESIGN.md: imports point down only, and each package's public API is
// its `exports` map with one entry point.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Which @fdn packages each package may import (DESIGN.md "Layers"). */
const ALLOWED: Record<string, string[]> = {
  '@fdn/core': [],
  '@fdn/actors': ['@fdn/core'],
  '@fdn/topology': ['@fdn/core'],
  '@fdn/distribution': ['@fdn/core', '@fdn/actors', '@fdn/topology'],
  '@fdn/cluster': ['@fdn/core', '@fdn/topology', '@fdn/distribution'],
  '@fdn/cli': ['@fdn/core', '@fdn/actors', '@fdn/topology', '@fdn/distribution', '@fdn/cluster'],
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

    it(`${manifest.name} exposes one code entry point through its exports map (plus data files; actors: its internal seam)`, () => {
      const code = Object.keys(manifest.exports).filter((k) => !k.endsWith('.json'));
      // @fdn/actors also has `./internal`: the wire classes only the distribution layer uses.
      expect(code).toEqual(manifest.name === '@fdn/actors' ? ['.', './internal'] : ['.']);
      const main = manifest.exports['.'] as Record<string, string>;
      expect(main['@fdn/source']).toBe('./src/index.ts');
      expect(main.types).toBe('./dist/index.d.ts');
      expect(main.default).toBe('./dist/index.js');
    });
  }
});

/** Relative imports (type-only included) of each source file of a package, resolved to files. */
function importGraph(dir: string): Map<string, string[]> {
  const src = join(packagesDir, dir, 'src');
  const files = sourceFiles(src);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => relative(src, resolve(dirname(file), m[1] as string)));
    graph.set(relative(src, file), targets.filter((t) => known.has(join(src, t))));
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan), each sorted. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * Known debts (each listed so a new cycle or long file fails at once, and a paid debt must be
 * struck from here). None today: the restructuring paid the actors cycle (a pid knew its process,
 * a process its runtime, the runtime its processes) and every long file says why at its top.
 */
const KNOWN_CYCLES: Record<string, string[][]> = {};
const KNOWN_LONG: Record<string, string[]> = {};

describe('the shape inside each package', () => {
  for (const { dir } of packages) {
    it(`${dir}: no import cycles between its modules (type-only imports included), beyond the known debts`, () => {
      expect(cycles(importGraph(dir))).toEqual(KNOWN_CYCLES[dir] ?? []);
    });

    it(`${dir}: no source file over 600 lines without a reason written at its top, beyond the known debts`, () => {
      const src = join(packagesDir, dir, 'src');
      const long = sourceFiles(src).filter((file) => {
        const lines = readFileSync(file, 'utf8').split('\n');
        return lines.length > 600 && !lines.slice(0, 20).some((l) => l.startsWith('// Longer than 600 lines because'));
      });
      expect(long.map((f) => relative(src, f)).sort()).toEqual(KNOWN_LONG[dir] ?? []);
    });
  }

  it('the distribution node does not import the features above it (ecosystems, the advisor)', () => {
    const graph = importGraph('distribution');
    for (const [file, targets] of graph) {
      if (!file.startsWith('node/')) continue;
      for (const t of targets) expect.soft(t.startsWith('ecosystem/') || t === 'switching/advisor.ts' || t === 'start.ts', `${file} imports ${t}`).toBe(false);
    }
  });
});
