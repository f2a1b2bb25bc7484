// The npm registry this project is built against lacks turbo's macOS and Windows binaries
// (@turbo/darwin-*, @turbo/windows-*: 404), so `npm install` leaves them out of
// package-lock.json and `npm ci` then rejects the lock as out of sync. This adds lock entries for
// the missing optional platform packages, with their os/cpu so npm skips them on other platforms.
// Run it after any `npm install` that rewrote the lock: node scripts/restore-lock-platforms.mjs

import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const OS = { darwin: 'darwin', windows: 'win32', linux: 'linux' };
const CPU = { 64: 'x64', arm64: 'arm64' };
let added = 0;

for (const [key, entry] of Object.entries(packages)) {
  if (!key.endsWith('node_modules/turbo') || entry.optionalDependencies === undefined) continue;
  for (const [dep, version] of Object.entries(entry.optionalDependencies)) {
    const depKey = `node_modules/${dep}`;
    if (packages[depKey] !== undefined) continue;
    const [, os, cpu] = /^@turbo\/([a-z]+)-(64|arm64)$/.exec(dep) ?? [];
    if (OS[os] === undefined || CPU[cpu] === undefined) throw new Error(`unknown platform package ${dep}`);
    packages[depKey] = { version, cpu: [CPU[cpu]], dev: true, license: 'MIT', optional: true, os: [OS[os]] };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(added === 0 ? 'package-lock.json already lists every platform package' : `added ${added} platform entries to package-lock.json`);
