import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** `google.rpc.ErrorInfo`: the machine-readable cause the server attaches to an error. */
export interface ErrorInfo {
  /** Stable UPPER_SNAKE_CASE cause, e.g. `INVOICE_ALREADY_APPROVED`; code branches on this. */
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export const errorInfoTypeName = 'google.rpc.ErrorInfo';

/**
 * Decodes `google.rpc.ErrorInfo` from its wire form. The message has three fields and has been
 * stable for years, so reading it here avoids vendoring googleapis protos into the generated
 * clients just for one error detail.
 */
export function decodeErrorInfo(bytes: Uint8Array): ErrorInfo {
  const reader = new BinaryReader(bytes);
  let reason = '';
  let domain = '';
  const metadata: Record<string, string> = {};
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) {
      reason = reader.string();
    } else if (field === 2 && wireType === WireType.LengthDelimited) {
      domain = reader.string();
    } else if (field === 3 && wireType === WireType.LengthDelimited) {
      const [key, value] = decodeStringMapEntry(reader.bytes());
      metadata[key] = value;
    } else {
      reader.skip(wireType, field);
    }
  }
  return { reason, domain, metadata };
}

function decodeStringMapEntry(bytes: Uint8Array): [string, string] {
  const reader = new BinaryReader(bytes);
  let key = '';
  let value = '';
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) {
      key = reader.string();
    } else if (field === 2 && wireType === WireType.LengthDelimited) {
      value = reader.string();
    } else {
      reader.skip(wireType, field);
    }
  }
  return [key, value];
}

/** One entry of `google.rpc.BadRequest`: which field of the request is wrong and why, in words for the user. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export const badRequestTypeName = 'google.rpc.BadRequest';

/** Decodes `google.rpc.BadRequest` (field 1: repeated FieldViolation { field = 1, description = 2 }). */
export function decodeBadRequest(bytes: Uint8Array): FieldViolation[] {
  const reader = new BinaryReader(bytes);
  const violations: FieldViolation[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) {
      const [name, description] = decodeStringMapEntry(reader.bytes());
      violations.push({ field: name, description });
    } else {
      reader.skip(wireType, field);
    }
  }
  return violations;
}
