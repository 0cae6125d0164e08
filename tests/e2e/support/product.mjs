import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { cliDll } from './paths.mjs';

/** The first start runs initdb and the migrations. */
const startTimeoutMs = 90_000;
const stopTimeoutMs = 10_000;

/**
 * Starts `invisible up` on a fresh data directory and resolves once it has written
 * `endpoints.json`, which it does only when it is ready to serve.
 * The server's output goes to `logFile`, which is where to look when a test fails. `env` adds settings
 * (`INVISIBLE_Section__Key`), e.g. a short password reset lifetime.
 */
export async function startProduct({ logFile, env = {} }) {
  const dataDir = await mkdtemp(join(tmpdir(), 'invisible-e2e-'));
  // mkdtemp makes the folder private; the embedded PostgreSQL runs as the `postgres` user and must
  // reach it, or its cluster is put elsewhere and outlives the test.
  await chmod(dataDir, 0o755);
  const log = createWriteStream(logFile);
  // With the demo tenant: its administrator's sign-in is in DATA_DIR/demo-login.json (support/session.mjs).
  const server = spawn('dotnet', [cliDll, 'up', '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Every page load of the SPA renews the session with a Refresh call, rate-limited per address (30 a minute by
    // default); a test reloads pages far faster than a person does, all from 127.0.0.1.
    env: { ...process.env, INVISIBLE_Auth__RateLimitPerMinute: '600', ...env },
  });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  const ended = new Promise((resolve) => {
    server.once('exit', (code, signal) => resolve(`exited (${code ?? signal})`));
    server.once('error', (error) => resolve(`could not be started: ${error.message}`));
  });

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null && server.pid !== undefined) {
      server.kill('SIGTERM');
      const stopped = await Promise.race([ended.then(() => true), delay(stopTimeoutMs, false)]);
      if (!stopped) {
        server.kill('SIGKILL');
        await ended;
      }
    }
    log.end();
    // The server's PostgreSQL may still be closing its WAL files for a moment after the server exited.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };

  try {
    const endpoints = await waitForEndpoints(join(dataDir, 'endpoints.json'), ended, logFile);
    return { httpUrl: endpoints.http, smtp: endpoints.smtp, dataDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForEndpoints(file, ended, logFile) {
  let outcome;
  ended.then((description) => {
    outcome = description;
  });
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (outcome !== undefined) {
      throw new Error(`invisible up ${outcome} before it was ready; see ${logFile}`);
    }
    try {
      return JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      // Absent until the server is ready; a partly written file parses on a later attempt.
      if (error.code !== 'ENOENT' && !(error instanceof SyntaxError)) {
        throw error;
      }
    }
    await delay(250);
  }
  throw new Error(`invisible up did not write ${file} within ${startTimeoutMs / 1000} s; see ${logFile}`);
}
