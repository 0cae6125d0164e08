import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * Encodes google.rpc.ErrorInfo as a server does, with one extra field from a newer schema that
 * readers must skip.
 */
export function encodeErrorInfo(
  reason: string,
  domain: string,
  metadata: Record<string, string> = {},
): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.LengthDelimited).string(reason);
  writer.tag(9, WireType.Varint).uint32(42);
  writer.tag(2, WireType.LengthDelimited).string(domain);
  for (const [key, value] of Object.entries(metadata)) {
    writer
      .tag(3, WireType.LengthDelimited)
      .fork()
      .tag(1, WireType.LengthDelimited)
      .string(key)
      .tag(2, WireType.LengthDelimited)
      .string(value)
      .join();
  }
  return writer.finish();
}
