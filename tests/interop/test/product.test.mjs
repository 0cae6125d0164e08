// Interop cases against the real product (not the interop host): what any gRPC or gRPC-Web client meets first —
// health, refusal of an unauthenticated call with machine-readable details, and reflection — proven by independent
// clients on both of the product's ports.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { MatchingService } from "../gen/invisible/matching/v1/matching_pb.js";
import { startProduct } from "../support/host.mjs";

const localProtos = join(import.meta.dirname, "../protos");
const load = (file) => grpc.loadPackageDefinition(protoLoader.loadSync(file, { includeDirs: [localProtos], defaults: true, enums: String }));
const { health } = load("grpc/health/v1/health.proto").grpc;
const { reflection } = load("grpc/reflection/v1alpha/reflection.proto").grpc;

const productServices = [
  "invisible.admin.v1.AdminService",
  "invisible.audit.v1.AuditService",
  "invisible.auth.v1.AuthService",
  "invisible.events.v1.EventService",
  "invisible.exceptions.v1.ExceptionService",
  "invisible.imports.v1.ImportService",
  "invisible.matching.v1.MatchingService",
  "invisible.vendors.v1.VendorService",
  "grpc.health.v1.Health",
];

let product;
let grpcAddress;
before(async () => {
  product = await startProduct();
  grpcAddress = new URL(product.grpc).host;
});
after(async () => { await product?.stop(); });

/** Settles on grpc-js's "status" event, which carries the trailers (grpc-status-details-bin among them). */
const unary = (client, method, request) =>
  new Promise((resolve) => {
    const result = {};
    const call = client[method](request, new grpc.Metadata(), (error, response) => Object.assign(result, { error, response }));
    call.on("status", (status) => {
      result.status = status;
      setImmediate(() => resolve(result));
    });
  });

/** The google.rpc.ErrorInfo of a google.rpc.Status encoded as in grpc-status-details-bin. */
const errorInfoIn = (encodedStatus) => {
  const status = fromBinary(StatusSchema, encodedStatus);
  const infos = status.details.map((any) => anyUnpack(any, ErrorInfoSchema)).filter(Boolean);
  assert.equal(infos.length, 1, "exactly one google.rpc.ErrorInfo in the status details");
  return { status, info: infos[0] };
};

describe("the product, @grpc/grpc-js over h2c", () => {
  test("grpc.health.v1 Check answers SERVING once the database is ready", async () => {
    const client = new health.v1.Health(grpcAddress, grpc.credentials.createInsecure());
    try {
      const { error, response } = await unary(client, "Check", { service: "" });
      assert.equal(error ?? null, null);
      assert.equal(response.status, "SERVING");
    } finally {
      client.close();
    }
  });

  test("an unauthenticated ListInvoices is UNAUTHENTICATED with ErrorInfo reason UNAUTHENTICATED in grpc-status-details-bin", async () => {
    // A generic client: the call is refused before its message is read, so an empty request is all it needs.
    const Client = grpc.makeGenericClientConstructor({
      ListInvoices: {
        path: "/invisible.matching.v1.MatchingService/ListInvoices",
        requestStream: false,
        responseStream: false,
        requestSerialize: (bytes) => bytes,
        responseDeserialize: (bytes) => bytes,
      },
    });
    const client = new Client(grpcAddress, grpc.credentials.createInsecure());
    try {
      const { error, status } = await unary(client, "ListInvoices", Buffer.alloc(0));
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
      const [encoded] = status.metadata.get("grpc-status-details-bin");
      assert.ok(encoded, "grpc-status-details-bin is present");
      const { status: details, info } = errorInfoIn(encoded);
      assert.equal(details.code, grpc.status.UNAUTHENTICATED);
      assert.equal(info.reason, "UNAUTHENTICATED");
      assert.equal(info.domain, "auth.invisible.app");
    } finally {
      client.close();
    }
  });

  test("server reflection lists the product's services", async () => {
    const client = new reflection.v1alpha.ServerReflection(grpcAddress, grpc.credentials.createInsecure());
    try {
      const names = await new Promise((resolve, reject) => {
        const call = client.ServerReflectionInfo();
        call.on("data", (response) => {
          call.end();
          if (response.listServicesResponse) resolve(response.listServicesResponse.service.map((s) => s.name));
          else reject(new Error(`unexpected reflection response: ${JSON.stringify(response)}`));
        });
        call.on("error", reject);
        call.write({ listServices: "" });
      });
      for (const service of productServices) assert.ok(names.includes(service), `${service} missing from ${names.join(", ")}`);
    } finally {
      client.close();
    }
  });
});

const transports = {
  "gRPC-Web over HTTP/1.1 on the main port": () => createGrpcWebTransport({ baseUrl: product.http, httpVersion: "1.1" }),
  "gRPC over h2c": () => createGrpcTransport({ baseUrl: product.grpc }),
};

for (const [name, makeTransport] of Object.entries(transports)) {
  describe(`the product, @connectrpc/connect-node ${name}`, () => {
    test("grpc.health.v1 Check answers SERVING", async () => {
      const response = await createClient(Health, makeTransport()).check({ service: "" });
      assert.equal(response.status, HealthCheckResponse_ServingStatus.SERVING);
    });

    test("an unauthenticated ListInvoices is UNAUTHENTICATED with ErrorInfo reason UNAUTHENTICATED", async () => {
      const error = await createClient(MatchingService, makeTransport()).listInvoices({}).then(() => null, (e) => ConnectError.from(e));
      assert.ok(error, "the call should have been refused");
      assert.equal(error.code, Code.Unauthenticated, `expected Unauthenticated, got ${Code[error.code]}: ${error.rawMessage}`);
      const [info] = error.findDetails(ErrorInfoSchema);
      assert.equal(info?.reason, "UNAUTHENTICATED");
      assert.equal(info?.domain, "auth.invisible.app");
    });
  });
}
