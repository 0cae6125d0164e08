// The gRPC interop cases for unary and server streaming, run by @connectrpc/connect-node with its gRPC transport
// (h2c) and its gRPC-Web transport (HTTP/1.1 on the main port, and HTTP/2 on the h2c port).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient, decodeBinaryHeader, encodeBinaryHeader } from "@connectrpc/connect";
import { compressionGzip, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { TestService, UnimplementedService } from "../gen/grpc/testing/test_pb.js";
import { interop, startHost } from "../support/host.mjs";

let host;
before(async () => { host = await startHost(); });
after(async () => { await host?.stop(); });

const transports = {
  "gRPC over h2c": (options) => createGrpcTransport({ baseUrl: `http://127.0.0.1:${host.grpcPort}`, ...options }),
  "gRPC-Web over HTTP/1.1": (options) => createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${host.httpPort}`, httpVersion: "1.1", ...options }),
  "gRPC-Web over HTTP/2": (options) => createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${host.grpcPort}`, httpVersion: "2", ...options }),
};

const zeros = (size) => ({ body: new Uint8Array(size) });

const rejectsWith = async (promise, code, message) => {
  const error = await promise.then(() => null, (e) => ConnectError.from(e));
  assert.ok(error, "the call should have failed");
  assert.equal(error.code, code, `expected code ${Code[code]}, got ${Code[error.code]}: ${error.rawMessage}`);
  if (message !== undefined) assert.equal(error.rawMessage, message);
  return error;
};

const drain = async (stream) => {
  const messages = [];
  for await (const message of stream) messages.push({ message, at: performance.now() });
  return messages;
};

for (const [name, makeTransport] of Object.entries(transports)) {
  describe(`@connectrpc/connect-node, ${name}`, () => {
    const client = () => createClient(TestService, makeTransport({ acceptCompression: [compressionGzip] }));

    test("empty_unary", async () => {
      const response = await client().emptyCall({});
      assert.equal(response.$typeName, "grpc.testing.Empty");
    });

    test("large_unary", async () => {
      const response = await client().unaryCall({ responseSize: interop.largeResponseSize, payload: zeros(interop.largeRequestSize) });
      assert.equal(response.payload.body.length, interop.largeResponseSize);
    });

    test("client_compressed_unary", async () => {
      const request = { expectCompressed: { value: true }, responseSize: interop.largeResponseSize, payload: zeros(interop.largeRequestSize) };
      await rejectsWith(client().unaryCall(request), Code.InvalidArgument);
      const compressing = createClient(TestService, makeTransport({ sendCompression: compressionGzip, acceptCompression: [compressionGzip] }));
      const response = await compressing.unaryCall(request);
      assert.equal(response.payload.body.length, interop.largeResponseSize);
    });

    test("server_compressed_unary", async () => {
      for (const compressed of [true, false]) {
        let encoding;
        const response = await client().unaryCall(
          { responseCompressed: { value: compressed }, responseSize: interop.largeResponseSize, payload: zeros(interop.largeRequestSize) },
          { onHeader: (headers) => { encoding = headers.get("grpc-encoding"); } },
        );
        assert.equal(response.payload.body.length, interop.largeResponseSize);
        assert.equal(encoding, compressed ? "gzip" : null);
      }
    });

    test("server_streaming", async () => {
      const messages = await drain(client().streamingOutputCall({ responseParameters: interop.streamingSizes.map((size) => ({ size })) }));
      assert.deepEqual(messages.map((m) => m.message.payload.body.length), interop.streamingSizes);
    });

    test("server_compressed_streaming", async () => {
      const messages = await drain(client().streamingOutputCall({ responseParameters: [{ size: 31_415, compressed: { value: true } }, { size: 92_653, compressed: { value: false } }] }));
      assert.deepEqual(messages.map((m) => m.message.payload.body.length), [31_415, 92_653]);
    });

    test("custom_metadata echoes initial and binary trailing metadata on unary and streaming calls", async () => {
      const seen = [];
      const options = () => {
        const result = { headers: null, trailers: null };
        seen.push(result);
        return {
          headers: { [interop.echoInitialKey]: interop.echoInitialValue, [interop.echoTrailingKey]: encodeBinaryHeader(interop.echoTrailingValue) },
          onHeader: (headers) => { result.headers = headers; },
          onTrailer: (trailers) => { result.trailers = trailers; },
        };
      };
      await client().unaryCall({ responseSize: 314_159, payload: zeros(271_828) }, options());
      await drain(client().streamingOutputCall({ responseParameters: [{ size: 314_159 }], payload: zeros(271_828) }, options()));
      for (const { headers, trailers } of seen) {
        assert.equal(headers.get(interop.echoInitialKey), interop.echoInitialValue);
        assert.deepEqual(decodeBinaryHeader(trailers.get(interop.echoTrailingKey)), interop.echoTrailingValue);
      }
    });

    test("status_code_and_message on unary and streaming calls", async () => {
      const responseStatus = { code: 2, message: "test status message" };
      await rejectsWith(client().unaryCall({ responseStatus }), Code.Unknown, "test status message");
      await rejectsWith(drain(client().streamingOutputCall({ responseStatus })), Code.Unknown, "test status message");
    });

    test("special_status_message survives percent-encoding exactly", async () => {
      await rejectsWith(client().unaryCall({ responseStatus: { code: 2, message: interop.specialStatusMessage } }), Code.Unknown, interop.specialStatusMessage);
    });

    test("a domain error's reason arrives in google.rpc.ErrorInfo, decoded by the client", async () => {
      const error = await rejectsWith(client().unaryCall({ responseStatus: { code: 9, message: "reason:INVOICE_ALREADY_MATCHED" } }), Code.FailedPrecondition);
      const [info] = error.findDetails(ErrorInfoSchema);
      assert.equal(info?.reason, "INVOICE_ALREADY_MATCHED");
      assert.equal(info?.domain, "interop.invisible.test");
    });

    test("unimplemented_method", async () => {
      await rejectsWith(client().unimplementedMethod({}), Code.Unimplemented);
    });

    test("unimplemented_service", async () => {
      await rejectsWith(createClient(UnimplementedService, makeTransport({})).unimplementedCall({}), Code.Unimplemented);
    });

    test("a deadline that expires on a slow handler is DEADLINE_EXCEEDED", async () => {
      await rejectsWith(drain(client().streamingOutputCall({ responseParameters: [{ size: 1, intervalUs: 2_000_000 }] }, { timeoutMs: 200 })), Code.DeadlineExceeded);
    });

    test("cancellation mid-stream ends the call as CANCELLED and the server keeps serving", async () => {
      const abort = new AbortController();
      const received = [];
      const stream = client().streamingOutputCall({ responseParameters: [1, 2, 3, 4].map(() => ({ size: 10, intervalUs: 200_000 })) }, { signal: abort.signal });
      const consume = (async () => {
        for await (const message of stream) {
          received.push(message);
          abort.abort();
        }
      })();
      await rejectsWith(consume, Code.Canceled);
      assert.ok(received.length < 4, `received ${received.length} of 4 messages after cancelling`);
      await client().emptyCall({});
    });

    test("a stream of 3 messages 100 ms apart arrives incrementally", async () => {
      const started = performance.now();
      const messages = await drain(client().streamingOutputCall({ responseParameters: [1, 2, 3].map(() => ({ size: 10, intervalUs: 100_000 })) }));
      const arrivals = messages.map((m) => m.at - started);
      assert.equal(arrivals.length, 3);
      assert.ok(arrivals[1] - arrivals[0] >= 60 && arrivals[2] - arrivals[1] >= 60, `arrivals ${arrivals.map(Math.round)} ms are not spread out`);
    });
  });
}
