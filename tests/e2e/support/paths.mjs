import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const e2e = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const repositoryRoot = resolve(e2e, '..', '..');
export const outputFolder = join(e2e, 'output');
export const cliDll = join(repositoryRoot, 'backend', 'Invisible.Cli', 'bin', 'Debug', 'net10.0', 'invisible.dll');
export const spaIndex = join(repositoryRoot, 'frontend', 'dist', 'invisible', 'browser', 'index.html');
export const chromiumExecutable = '/usr/bin/chromium';

/**
 * The spec's sample files, as the C# tests find them (Invisible.Testing/SpecSamples.cs): INVISIBLE_SHARED_DIR, else
 * shared/ next to the repository. shared/ is for developers and CI only, so a suite that needs it skips without it.
 */
export const specSamples = join(process.env.INVISIBLE_SHARED_DIR ?? resolve(repositoryRoot, '..', 'shared'), 'spec', 'samples');
export const specSamplesMissing = existsSync(join(specSamples, 'expected_results.csv'))
  ? false
  : `shared/spec/samples not found at ${specSamples} (set INVISIBLE_SHARED_DIR or place shared/ next to the repository)`;
