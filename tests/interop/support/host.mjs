// Starts tests/Invisible.Rpc.InteropHost (built by `dotnet build tests/Invisible.Rpc.InteropHost`) on free loopback ports
// and stops it afterwards: the interop TestService, or with startProduct() the product itself.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const protoDir = resolve(here, "../../Invisible.Rpc.InteropHost/Protos");
const hostDll = resolve(here, "../../Invisible.Rpc.InteropHost/bin/Debug/net10.0/Invisible.Rpc.InteropHost.dll");

/** @returns {Promise<{httpPort: number, grpcPort: number, stop: () => Promise<void>}>} */
export async function startHost() {
  if (!existsSync(hostDll)) {
    throw new Error(`Interop host not built: ${hostDll} is missing. Run \`dotnet build Invisible.Dapr.sln\` (or tests/Invisible.Rpc.InteropHost) first.`);
  }
  const scratch = mkdtempSync(join(tmpdir(), "rpc-interop-"));
  const portsFile = join(scratch, "ports.json");
  const host = spawn("dotnet", [hostDll, "--ports-file", portsFile], { stdio: ["ignore", "inherit", "inherit"] });
  let exited = null;
  host.on("exit", (code) => { exited = code; });
  for (let waited = 0; !existsSync(portsFile); waited += 50) {
    if (exited !== null) throw new Error(`Interop host exited with code ${exited} before listening.`);
    if (waited > 30_000) { host.kill(); throw new Error("Interop host did not report its ports within 30 s."); }
    await sleep(50);
  }
  const { http, grpc } = JSON.parse(readFileSync(portsFile, "utf8"));
  return {
    httpPort: http,
    grpcPort: grpc,
    stop: async () => {
      if (exited === null) {
        const done = new Promise((r) => host.once("exit", r));
        host.kill("SIGTERM");
        await done;
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
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
