// Adds package-lock.json entries for platform-specific optional packages (rollup, buf,
// msgpackr-extract builds for other systems) that the npm mirror on the build machines does not
// carry. Without them `npm install` leaves them out of the lockfile and `npm ci` then refuses the
// lockfile as out of sync. Each entry gets the exact version its parent pins and the os/cpu/libc
// its name encodes, so npm skips it on every other platform and fetches it on its own.
// Run after `npm install` changes the lockfile: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lockfilePath = join(dirname(fileURLToPath(import.meta.url)), '..', 'package-lock.json');
const lockfile = JSON.parse(readFileSync(lockfilePath, 'utf8'));
const packages = lockfile.packages;

const systems = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openbsd',
  'openharmony',
  'netbsd',
  'sunos',
  'aix',
];
const processors = {
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  armv7: 'arm',
  ppc64: 'ppc64',
  riscv64: 'riscv64',
  s390x: 's390x',
  loong64: 'loong64',
};

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((part) => systems.includes(part));
  const cpu = parts.map((part) => processors[part]).find((value) => value !== undefined);
  if (os === undefined || cpu === undefined) {
    return undefined;
  }
  const libc =
    os === 'linux' ? (parts.includes('musl') || parts.includes('musleabihf') ? 'musl' : 'glibc') : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const parentFolder = location === '' ? '' : `${location}/`;
    if (packages[`${parentFolder}node_modules/${name}`] || packages[`node_modules/${name}`]) {
      continue;
    }
    const platform = platformOf(name);
    if (platform === undefined || !/^\d+\.\d+\.\d+/.test(version)) {
      console.warn(
        `complete-lockfile: left ${name}@${version} (needed by ${location || 'the root'}) alone: not a pinned platform build`,
      );
      continue;
    }
    packages[`node_modules/${name}`] = {
      version,
      cpu: [platform.cpu],
      dev: entry.dev,
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    added++;
  }
}

const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(lockfilePath, `${JSON.stringify({ ...lockfile, packages: sorted }, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
