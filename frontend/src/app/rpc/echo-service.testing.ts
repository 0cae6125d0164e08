import { create, createFileRegistry } from '@bufbuild/protobuf';
import { serviceDesc, type GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_wrappers,
  type StringValueSchema,
} from '@bufbuild/protobuf/wkt';

/**
 * A two-method service for exercising the transport and its interceptors before the product's
 * own services exist: `Echo` (unary) and `Repeat` (server streaming), both on StringValue.
 */
const echoFile = create(FileDescriptorProtoSchema, {
  name: 'test/v1/echo.proto',
  package: 'test.v1',
  syntax: 'proto3',
  dependency: ['google/protobuf/wrappers.proto'],
  service: [
    {
      name: 'EchoService',
      method: [
        {
          name: 'Echo',
          inputType: '.google.protobuf.StringValue',
          outputType: '.google.protobuf.StringValue',
        },
        {
          name: 'Repeat',
          inputType: '.google.protobuf.StringValue',
          outputType: '.google.protobuf.StringValue',
          serverStreaming: true,
        },
      ],
    },
  ],
});

const registry = createFileRegistry(echoFile, (name) =>
  name === file_google_protobuf_wrappers.proto.name ? file_google_protobuf_wrappers : undefined,
);

const file = registry.getFile(echoFile.name);
if (file === undefined) {
  throw new Error(`${echoFile.name} is missing from its own registry`);
}

type StringToString = { input: typeof StringValueSchema; output: typeof StringValueSchema };

/** Typed the way protoc-gen-es types a generated service. */
export const EchoService: GenService<{
  echo: StringToString & { methodKind: 'unary' };
  repeat: StringToString & { methodKind: 'server_streaming' };
}> = serviceDesc(file, 0);
