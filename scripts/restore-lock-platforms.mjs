// The npm registry this project is built against lacks some platform binaries (for example
// @turbo/darwin-*, @msgpackr-extract/msgpackr-extract-win32-x64: 404), so `npm install` leaves them
// out of package-lock.json and `npm ci` then rejects the lock as out of sync. This adds lock entries
// for every missing optional platform package, with its os/cpu (read from its name) so npm skips it
// on other platforms. Run it after any `npm install` that rewrote the lock:
//   node scripts/restore-lock-platforms.mjs

import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const OS = { darwin: 'darwin', windows: 'win32', win32: 'win32', linux: 'linux', freebsd: 'freebsd', android: 'android' };
const CPU = { 64: 'x64', x64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'ia32' };
let added = 0;

for (const [key, entry] of Object.entries(packages)) {
  if (entry.optionalDependencies === undefined) continue;
  for (const [dep, version] of Object.entries(entry.optionalDependencies)) {
    if (packages[`node_modules/${dep}`] !== undefined || packages[`${key}/node_modules/${dep}`] !== undefined) continue;
    const match = /(darwin|windows|win32|linux|freebsd|android)-(x64|arm64|arm|ia32|64)$/.exec(dep);
    if (match === null) throw new Error(`${dep} (optional dependency of ${key}) is missing from the lock and is not a platform package`);
    const [, os, cpu] = match;
    packages[`node_modules/${dep}`] = { version, cpu: [CPU[cpu]], dev: entry.dev === true, license: entry.license ?? 'MIT', optional: true, os: [OS[os]] };
    if (entry.dev !== true) delete packages[`node_modules/${dep}`].dev;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(added === 0 ? 'package-lock.json already lists every platform package' : `added ${added} platform entries to package-lock.json`);
