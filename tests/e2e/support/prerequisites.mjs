import { existsSync } from 'node:fs';
import { relative } from 'node:path';

import { chromiumExecutable, cliDll, repositoryRoot, spaIndex } from './paths.mjs';

/** Fails with every missing piece and how to get it, rather than with a timeout later on. */
export function assertPrerequisites() {
  const missing = [];
  if (!existsSync(cliDll)) {
    missing.push(`the product is not built: ${relative(repositoryRoot, cliDll)} is missing (run: dotnet build backend/Invisible.Cli)`);
  }
  if (!existsSync(spaIndex)) {
    missing.push(`the web app is not built: ${relative(repositoryRoot, spaIndex)} is missing (run: cd frontend && npm ci && npm run build)`);
  }
  if (!existsSync(chromiumExecutable)) {
    missing.push(`Chromium is not installed at ${chromiumExecutable} (run: apt-get install -y chromium)`);
  }
  if (missing.length > 0) {
    throw new Error(`Cannot run the end-to-end tests:\n  - ${missing.join('\n  - ')}`);
  }
}
