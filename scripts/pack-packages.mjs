#!/usr/bin/env node
// Packs the published packages as a registry would serve them: each is staged with exactly
// what it ships (its `files`, README, LICENSE, CHANGELOG) and a manifest without the workspace's
// `@fdn/source` export condition (which only lets tests run from sources), then `npm pack`ed.
// Usage: node scripts/pack-packages.mjs [outDir]  (default .packs/; prints the tarballs as JSON)

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, '.packs'));
const PACKAGES = ['core', 'actors', 'topology', 'distribution', 'cluster', 'cli'];

/** The manifest as published: no workspace-only export condition, no scripts that need the monorepo. */
function publishedManifest(manifest) {
  const exports = {};
  for (const [key, value] of Object.entries(manifest.exports)) {
    if (typeof value === 'object' && value !== null) {
      const { '@fdn/source': _source, ...rest } = value;
      exports[key] = rest;
    } else {
      exports[key] = value;
    }
  }
  const { scripts: _scripts, devDependencies: _dev, ...rest } = manifest;
  return { ...rest, exports };
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'stage'), { recursive: true });
const tarballs = {};
for (const dir of PACKAGES) {
  const source = join(root, 'packages', dir);
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  if (!existsSync(join(source, 'dist', 'index.js'))) throw new Error(`${manifest.name} is not built: run npm run build first`);
  const stage = join(out, 'stage', dir);
  mkdirSync(stage, { recursive: true });
  for (const entry of manifest.files) {
    if (existsSync(join(source, entry))) cpSync(join(source, entry), join(stage, entry), { recursive: true });
  }
  writeFileSync(join(stage, 'package.json'), JSON.stringify(publishedManifest(manifest), null, 2) + '\n');
  const name = execFileSync('npm', ['pack', '--pack-destination', out, '--silent'], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
  tarballs[manifest.name] = join(out, name);
}
console.log(JSON.stringify(tarballs, null, 2));
