import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const e2e = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const repositoryRoot = resolve(e2e, '..', '..');
export const outputFolder = join(e2e, 'output');
export const cliDll = join(repositoryRoot, 'backend', 'Invisible.Cli', 'bin', 'Debug', 'net10.0', 'invisible.dll');
export const spaIndex = join(repositoryRoot, 'frontend', 'dist', 'invisible', 'browser', 'index.html');
export const chromiumExecutable = '/usr/bin/chromium';
