// Generates TypeScript clients into src/gen from the repository's protos (or the folder given as
// the first argument). buf refuses an input without .proto files, so an empty protos folder is
// handled here: the previous output is removed and nothing is generated.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const protos = resolve(process.argv[2] ?? join(frontend, '..', 'protos'));
const output = join(frontend, 'src', 'gen');

function countProtos(folder) {
  if (!existsSync(folder)) return 0;
  return readdirSync(folder, { recursive: true }).filter((name) => name.endsWith('.proto')).length;
}

const protoCount = countProtos(protos);
if (protoCount === 0) {
  rmSync(output, { recursive: true, force: true });
  console.log(`generate: no .proto files under ${protos}; nothing to generate.`);
  process.exit(0);
}

const localBin = join(frontend, 'node_modules', '.bin');
const buf = spawnSync(join(localBin, 'buf'), ['generate', protos, '--template', 'buf.gen.yaml'], {
  cwd: frontend,
  stdio: 'inherit',
  // buf finds the protoc-gen-es plugin on PATH.
  env: { ...process.env, PATH: `${localBin}${delimiter}${process.env.PATH ?? ''}` },
});
if (buf.error) {
  console.error(`generate: could not run buf (${buf.error.message}); run npm ci first.`);
  process.exit(1);
}
if (buf.status !== 0) {
  console.error(`generate: buf failed on ${protos} (exit ${buf.status}).`);
  process.exit(buf.status ?? 1);
}
console.log(`generate: ${protoCount} .proto file(s) from ${protos} -> ${relative(frontend, output)}/`);
