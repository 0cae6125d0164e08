import { Injectable } from '@angular/core';
import { Code } from '@connectrpc/connect';

import {
  type DocumentKind,
  ImportService,
  type ImportProgress,
  ImportOutcome,
  type ImportResult,
} from '../../gen/invisible/imports/v1/imports_pb';
import { RpcError, toRpcError } from '../rpc/errors';
import { injectClient } from '../rpc/transport';
import { Sha256 } from './sha256';

/** What the file being uploaded is doing now. */
export type UploadStage =
  | { readonly stage: 'uploading'; readonly sentBytes: number; readonly totalBytes: number }
  | { readonly stage: 'processing'; readonly server: ImportProgress | undefined };

/** A chunk that failed for a passing reason (network, server busy) is sent again this many times. */
const chunkAttempts = 3;

const transientCodes = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted]);

/**
 * Sends one file through ImportService: StartUpload, UploadChunk in offset order (at most the server's
 * max_chunk_bytes each; the SHA-256 is computed along the way), then CompleteUpload, whose stream reports the
 * server's progress and ends with the result. A rejected file resolves to its result (with the row errors); the
 * INVALID_ARGUMENT that ends its stream is expected and not an error here.
 */
@Injectable({ providedIn: 'root' })
export class Uploader {
  private readonly imports = injectClient(ImportService);

  async upload(
    file: File,
    kind: DocumentKind,
    report: (stage: UploadStage) => void,
    signal?: AbortSignal,
  ): Promise<ImportResult> {
    const started = await this.imports.startUpload(
      { kind, fileName: file.name, size: BigInt(file.size) },
      { signal },
    );
    const chunkBytes = Math.max(1, started.maxChunkBytes || 1 << 20);
    const hash = new Sha256();
    let offset = 0;
    report({ stage: 'uploading', sentBytes: 0, totalBytes: file.size });
    while (offset < file.size) {
      const data = new Uint8Array(await file.slice(offset, offset + chunkBytes).arrayBuffer());
      await this.sendChunk(started.uploadId, offset, data, signal);
      hash.update(data);
      offset += data.length;
      report({ stage: 'uploading', sentBytes: offset, totalBytes: file.size });
    }

    report({ stage: 'processing', server: undefined });
    let result: ImportResult | undefined;
    try {
      for await (const event of this.imports.completeUpload(
        { uploadId: started.uploadId, sha256: hash.hex() },
        { signal },
      )) {
        if (event.event.case === 'progress') {
          report({ stage: 'processing', server: event.event.value });
        } else if (event.event.case === 'result') {
          result = event.event.value;
        }
      }
    } catch (failure) {
      if (result?.outcome !== ImportOutcome.REJECTED) {
        throw toRpcError(failure);
      }
    }
    if (result === undefined) {
      throw new Error(
        'The server ended the import without a result. Check the import history for its status.',
      );
    }
    return result;
  }

  private async sendChunk(
    uploadId: string,
    offset: number,
    data: Uint8Array,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.imports.uploadChunk({ uploadId, offset: BigInt(offset), data }, { signal });
        return;
      } catch (failure) {
        const error = toRpcError(failure);
        // The chunk arrived but its answer was lost: the server already expects the next offset.
        if (
          error.reason === 'UPLOAD_OFFSET_MISMATCH' &&
          error.errorInfo?.metadata['expected_offset'] === String(offset + data.length)
        ) {
          return;
        }
        if (attempt >= chunkAttempts || !transientCodes.has(error.code) || signal?.aborted) {
          throw error instanceof RpcError ? error : toRpcError(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }
}
