// Starts tests/Invisible.Rpc.InteropHost (built by `dotnet build tests/Invisible.Rpc.InteropHost`) on free loopback ports
// and stops it afterwards: the interop TestService, or with startProduct() the product itself.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const protoDir = resolve(here, "../../Invisible.Rpc.InteropHost/Protos");
const hostDll = resolve(here, "../../Invisible.Rpc.InteropHost/bin/Debug/net10.0/Invisible.Rpc.InteropHost.dll");

const cliDll = resolve(here, "../../../backend/Invisible.Cli/bin/Debug/net10.0/invisible.dll");

/**
 * Spawns `dotnet args…`, waits until `readyFile` exists (written atomically by the process once it listens) and returns
 * its JSON with a stop() that ends the process (SIGTERM: a graceful shutdown) and removes `scratch`.
 */
async function spawnUntilReady(name, args, readyFile, scratch, timeoutMs) {
  const child = spawn("dotnet", args, { stdio: ["ignore", "inherit", "inherit"] });
  let exited = null;
  child.on("exit", (code) => { exited = code; });
  for (let waited = 0; !existsSync(readyFile); waited += 50) {
    if (exited !== null) throw new Error(`${name} exited with code ${exited} before listening.`);
    if (waited > timeoutMs) {
      child.kill();
      throw new Error(`${name} did not write ${readyFile} within ${timeoutMs / 1000} s.`);
    }
    await sleep(50);
  }
  const ready = JSON.parse(readFileSync(readyFile, "utf8"));
  const stop = async () => {
    if (exited === null) {
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await done;
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  return { ready, stop };
}

/** @returns {Promise<{httpPort: number, grpcPort: number, stop: () => Promise<void>}>} */
export async function startHost() {
  if (!existsSync(hostDll)) {
    throw new Error(`Interop host not built: ${hostDll} is missing. Run \`dotnet build tests/Invisible.Rpc.InteropHost -v q -clp:ErrorsOnly\` first.`);
  }
  const scratch = mkdtempSync(join(tmpdir(), "rpc-interop-"));
  const portsFile = join(scratch, "ports.json");
  const { ready, stop } = await spawnUntilReady("Interop host", [hostDll, "--ports-file", portsFile], portsFile, scratch, 30_000);
  return { httpPort: ready.http, grpcPort: ready.grpc, stop };
}

/**
 * Starts the real product (embedded PostgreSQL cluster, migrations, every service, authentication) on free loopback
 * ports in a fresh data directory, and reads where it listens from DATA_DIR/endpoints.json, which the product writes
 * once it accepts requests. By default the interop host's `product` launcher starts it, with the arguments
 * `invisible serve --data-dir DIR --port 0 --grpc-port 0` passes; INTEROP_PRODUCT_LAUNCHER=cli uses the built CLI itself.
 * @returns {Promise<{http: string, grpc: string, stop: () => Promise<void>}>} base URLs, e.g. http://127.0.0.1:41234
 */
export async function startProduct() {
  const useCli = process.env.INTEROP_PRODUCT_LAUNCHER === "cli";
  const launcher = useCli ? cliDll : hostDll;
  if (!existsSync(launcher)) {
    throw new Error(`${launcher} is missing. Run \`dotnet build ${useCli ? "backend/Invisible.Cli" : "tests/Invisible.Rpc.InteropHost"} -v q -clp:ErrorsOnly\` first.`);
  }
  const scratch = mkdtempSync(join(tmpdir(), "rpc-interop-product-"));
  // mkdtemp makes the directory 0700; the embedded cluster runs as its own `postgres` account when tests run as root.
  chmodSync(scratch, 0o755);
  const dataDir = join(scratch, "data");
  const args = useCli
    ? [cliDll, "serve", "--data-dir", dataDir, "--port", "0", "--grpc-port", "0"]
    : [hostDll, "product", "--data-dir", dataDir];
  // A first start initialises a cluster and applies every migration: slow on a busy machine.
  const { ready, stop } = await spawnUntilReady("The product", args, join(dataDir, "endpoints.json"), scratch, 180_000);
  return { http: ready.http, grpc: ready.grpc, stop };
}

/** The interop spec's payload sizes and messages, shared by every client. */
export const interop = {
  largeRequestSize: 271_828,
  largeResponseSize: 314_159,
  streamingSizes: [31_415, 9, 2_653, 58_979],
  echoInitialKey: "x-grpc-test-echo-initial",
  echoInitialValue: "test_initial_metadata_value",
  echoTrailingKey: "x-grpc-test-echo-trailing-bin",
  echoTrailingValue: Uint8Array.from([0xab, 0xab, 0xab]),
  specialStatusMessage: "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n",
};
