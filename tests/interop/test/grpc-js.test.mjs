// The gRPC interop cases for unary and server streaming, run by @grpc/grpc-js over native gRPC (h2c).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { interop, protoDir, startHost } from "../support/host.mjs";

const definition = protoLoader.loadSync("grpc/testing/test.proto", { includeDirs: [protoDir], defaults: true });
const { testing } = grpc.loadPackageDefinition(definition).grpc;

let host;
let client;
let compressingClient;

before(async () => {
  host = await startHost();
  const address = `127.0.0.1:${host.grpcPort}`;
  client = new testing.TestService(address, grpc.credentials.createInsecure());
  compressingClient = new testing.TestService(address, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
});

after(async () => {
  client?.close();
  compressingClient?.close();
  await host?.stop();
});

// grpc-js reports the response (or error) before the trailers, so both helpers settle on the "status" event.
const unary = (target, method, request, metadata = new grpc.Metadata(), options = {}) =>
  new Promise((resolve, reject) => {
    const result = {};
    const call = target[method](request, metadata, options, (error, response) => Object.assign(result, { error, response }));
    call.on("metadata", (headers) => { result.headers = headers; });
    call.on("status", (status) => {
      result.trailers = status.metadata;
      setImmediate(() => (result.error ? reject(Object.assign(result.error, result)) : resolve(result)));
    });
  });

const collect = (call) =>
  new Promise((resolve, reject) => {
    const messages = [];
    const result = { messages };
    call.on("metadata", (headers) => { result.headers = headers; });
    call.on("data", (message) => messages.push({ message, at: performance.now() }));
    call.on("error", (error) => { result.error = error; });
    call.on("status", (status) => {
      result.trailers = status.metadata;
      setImmediate(() => (status.code === grpc.status.OK ? resolve(result) : reject(Object.assign(result.error ?? new Error(status.details), { code: status.code, details: status.details }, result))));
    });
  });

const zeros = (size) => ({ body: Buffer.alloc(size) });

describe("@grpc/grpc-js over h2c", () => {
  test("empty_unary", async () => {
    const { response } = await unary(client, "EmptyCall", {});
    assert.deepEqual(response, {});
  });

  test("large_unary", async () => {
    const { response } = await unary(client, "UnaryCall", { responseSize: interop.largeResponseSize, payload: zeros(interop.largeRequestSize) });
    assert.equal(response.payload.body.length, interop.largeResponseSize);
  });

  test("client_compressed_unary", async () => {
    const request = { expectCompressed: { value: true }, responseSize: interop.largeResponseSize, payload: zeros(interop.largeRequestSize) };
    await assert.rejects(unary(client, "UnaryCall", request), { code: grpc.status.INVALID_ARGUMENT }, "an uncompressed request must be refused when compression is expected");
    const { response } = await unary(compressingClient, "UnaryCall", request);
    assert.equal(response.payload.body.length, interop.largeResponseSize);
  });

  test("server_compressed_unary", async () => {
    for (const compressed of [true, false]) {
      const { response } = await unary(client, "UnaryCall", { responseCompressed: { value: compressed }, responseSize: interop.largeResponseSize, payload: zeros(interop.largeRequestSize) });
      assert.equal(response.payload.body.length, interop.largeResponseSize);
    }
  });

  test("server_streaming", async () => {
    const { messages } = await collect(client.StreamingOutputCall({ responseParameters: interop.streamingSizes.map((size) => ({ size })) }));
    assert.deepEqual(messages.map((m) => m.message.payload.body.length), interop.streamingSizes);
  });

  test("server_compressed_streaming", async () => {
    const { messages } = await collect(client.StreamingOutputCall({ responseParameters: [{ size: 31_415, compressed: { value: true } }, { size: 92_653, compressed: { value: false } }] }));
    assert.deepEqual(messages.map((m) => m.message.payload.body.length), [31_415, 92_653]);
  });

  test("custom_metadata echoes initial and binary trailing metadata on unary and streaming calls", async () => {
    const metadata = () => {
      const m = new grpc.Metadata();
      m.set(interop.echoInitialKey, interop.echoInitialValue);
      m.set(interop.echoTrailingKey, Buffer.from(interop.echoTrailingValue));
      return m;
    };
    const unaryResult = await unary(client, "UnaryCall", { responseSize: 314_159, payload: zeros(271_828) }, metadata());
    const streamResult = await collect(client.StreamingOutputCall({ responseParameters: [{ size: 314_159 }], payload: zeros(271_828) }, metadata()));
    for (const { headers, trailers } of [unaryResult, streamResult]) {
      assert.deepEqual(headers.get(interop.echoInitialKey), [interop.echoInitialValue]);
      assert.deepEqual(trailers.get(interop.echoTrailingKey), [Buffer.from(interop.echoTrailingValue)]);
    }
  });

  test("status_code_and_message on unary and streaming calls", async () => {
    const responseStatus = { code: 2, message: "test status message" };
    await assert.rejects(unary(client, "UnaryCall", { responseStatus }), { code: 2, details: "test status message" });
    await assert.rejects(collect(client.StreamingOutputCall({ responseStatus })), { code: 2, details: "test status message" });
  });

  test("special_status_message survives percent-encoding exactly", async () => {
    await assert.rejects(unary(client, "UnaryCall", { responseStatus: { code: 2, message: interop.specialStatusMessage } }), { code: 2, details: interop.specialStatusMessage });
  });

  test("a domain error's reason arrives in google.rpc.ErrorInfo in grpc-status-details-bin", async () => {
    const error = await unary(client, "UnaryCall", { responseStatus: { code: 9, message: "reason:INVOICE_ALREADY_MATCHED" } }).then(() => null, (e) => e);
    assert.equal(error?.code, grpc.status.FAILED_PRECONDITION);
    const [encoded] = error.trailers.get("grpc-status-details-bin");
    const details = fromBinary(StatusSchema, encoded);
    assert.equal(details.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(anyUnpack(details.details[0], ErrorInfoSchema)?.reason, "INVOICE_ALREADY_MATCHED");
  });

  test("unimplemented_method", async () => {
    await assert.rejects(unary(client, "UnimplementedMethod", {}), { code: grpc.status.UNIMPLEMENTED });
  });

  test("unimplemented_service", async () => {
    const other = new testing.UnimplementedService(`127.0.0.1:${host.grpcPort}`, grpc.credentials.createInsecure());
    try {
      await assert.rejects(unary(other, "UnimplementedCall", {}), { code: grpc.status.UNIMPLEMENTED });
    } finally {
      other.close();
    }
  });

  test("a deadline that expires on a slow handler is DEADLINE_EXCEEDED", async () => {
    const call = client.StreamingOutputCall({ responseParameters: [{ size: 1, intervalUs: 2_000_000 }] }, new grpc.Metadata(), { deadline: Date.now() + 200 });
    await assert.rejects(collect(call), { code: grpc.status.DEADLINE_EXCEEDED });
  });

  test("cancellation mid-stream ends the call as CANCELLED and the server keeps serving", async () => {
    const call = client.StreamingOutputCall({ responseParameters: [1, 2, 3, 4].map(() => ({ size: 10, intervalUs: 200_000 })) });
    call.once("data", () => call.cancel());
    const error = await collect(call).then(() => null, (e) => e);
    assert.equal(error?.code, grpc.status.CANCELLED);
    assert.ok(error.messages.length < 4, `received ${error.messages.length} of 4 messages after cancelling`);
    await unary(client, "EmptyCall", {});
  });

  test("a stream of 3 messages 100 ms apart arrives incrementally", async () => {
    const started = performance.now();
    const { messages } = await collect(client.StreamingOutputCall({ responseParameters: [1, 2, 3].map(() => ({ size: 10, intervalUs: 100_000 })) }));
    const arrivals = messages.map((m) => m.at - started);
    assert.equal(arrivals.length, 3);
    assert.ok(arrivals[1] - arrivals[0] >= 60 && arrivals[2] - arrivals[1] >= 60, `arrivals ${arrivals.map(Math.round)} ms are not spread out`);
  });
});
