import { TestBed } from '@angular/core/testing';
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect';

import {
  DocumentKind,
  ImportOutcome,
  ImportPhase,
  ImportService,
} from '../../gen/invisible/imports/v1/imports_pb';
import { GRPC_TRANSPORT } from '../rpc/transport';
import { Sha256 } from './sha256';
import { Uploader, type UploadStage } from './uploader';

/** An in-test stand-in for our ImportService: keeps what arrives and checks the digest like the server does. */
function importServer(options: { maxChunkBytes: number; reject?: boolean; failFirstChunkWith?: Code }) {
  const received: { offset: bigint; bytes: string }[] = [];
  const state = { sha256: '', kind: DocumentKind.UNSPECIFIED, failures: 0 };
  const transport = createRouterTransport((router) =>
    router.service(ImportService, {
      startUpload(request) {
        state.kind = request.kind;
        return { uploadId: 'u1', maxChunkBytes: options.maxChunkBytes };
      },
      uploadChunk(request) {
        if (options.failFirstChunkWith !== undefined && state.failures === 0) {
          state.failures++;
          throw new ConnectError('busy', options.failFirstChunkWith);
        }
        received.push({ offset: request.offset, bytes: new TextDecoder().decode(request.data) });
        return { receivedBytes: request.offset + BigInt(request.data.length) };
      },
      async *completeUpload(request) {
        state.sha256 = request.sha256;
        yield {
          event: {
            case: 'progress',
            value: { phase: ImportPhase.VALIDATING, rowsRead: 2n, bytesRead: 5n, totalBytes: 10n },
          },
        };
        if (options.reject) {
          yield {
            event: {
              case: 'result',
              value: {
                outcome: ImportOutcome.REJECTED,
                errors: [{ line: 3, column: 'amount', value: 'abc', reason: 'not a number' }],
                errorCsvAvailable: true,
              },
            },
          };
          throw new ConnectError('1 row error', Code.InvalidArgument);
        }
        yield { event: { case: 'result', value: { outcome: ImportOutcome.STORED, inserted: 2n } } };
      },
    }),
  );
  return { transport, received, state };
}

const file = (content: string, name = 'vendors.csv') => new File([content], name, { type: 'text/csv' });

describe('Uploader', () => {
  function setUp(server: ReturnType<typeof importServer>) {
    TestBed.configureTestingModule({ providers: [{ provide: GRPC_TRANSPORT, useValue: server.transport }] });
    return TestBed.inject(Uploader);
  }

  it('sends the file in chunks of at most max_chunk_bytes, in offset order, with its SHA-256, and reports progress', async () => {
    const server = importServer({ maxChunkBytes: 4 });
    const uploader = setUp(server);
    const stages: UploadStage[] = [];

    const result = await uploader.upload(file('code,name\n'), DocumentKind.VENDORS, (stage) =>
      stages.push(stage),
    );

    expect(server.received).toEqual([
      { offset: 0n, bytes: 'code' },
      { offset: 4n, bytes: ',nam' },
      { offset: 8n, bytes: 'e\n' },
    ]);
    expect(server.state.kind).toBe(DocumentKind.VENDORS);
    expect(server.state.sha256).toBe(new Sha256().update(new TextEncoder().encode('code,name\n')).hex());
    expect(result.outcome).toBe(ImportOutcome.STORED);
    expect(
      stages
        .filter((stage) => stage.stage === 'uploading')
        .map((stage) => stage.stage === 'uploading' && stage.sentBytes),
    ).toEqual([0, 4, 8, 10]);
    expect(stages.at(-1)).toMatchObject({ stage: 'processing', server: { rowsRead: 2n } });
  });

  it('resolves a rejected file to its result with the row errors, not to the stream error', async () => {
    const uploader = setUp(importServer({ maxChunkBytes: 1024, reject: true }));

    const result = await uploader.upload(file('x'), DocumentKind.INVOICES, () => undefined);

    expect(result.outcome).toBe(ImportOutcome.REJECTED);
    expect(result.errors[0]).toMatchObject({
      line: 3,
      column: 'amount',
      value: 'abc',
      reason: 'not a number',
    });
  });

  it('sends a chunk again after a passing failure, but not after one the user must fix', async () => {
    const retried = importServer({ maxChunkBytes: 1024, failFirstChunkWith: Code.Unavailable });
    await expect(
      setUp(retried).upload(file('abc'), DocumentKind.VENDORS, () => undefined),
    ).resolves.toMatchObject({
      outcome: ImportOutcome.STORED,
    });
    expect(retried.received).toEqual([{ offset: 0n, bytes: 'abc' }]);

    TestBed.resetTestingModule();
    const refused = importServer({ maxChunkBytes: 1024, failFirstChunkWith: Code.PermissionDenied });
    await expect(
      setUp(refused).upload(file('abc'), DocumentKind.VENDORS, () => undefined),
    ).rejects.toMatchObject({
      code: Code.PermissionDenied,
    });
  });
});
