import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { auditTime } from 'rxjs';

import {
  DocumentKind,
  type Import,
  ImportOutcome,
  ImportPhase,
  ImportService,
  ImportStatus,
  type ImportResult,
} from '../../gen/invisible/imports/v1/imports_pb';
import { LiveBadge } from '../live/live-badge';
import { LiveEvents, topics } from '../live/live-events';
import { injectClient } from '../rpc/transport';
import { CurrentUser } from '../shared/current-user';
import { formatTimestamp } from '../shared/dates';
import { downloadFile } from '../shared/download';
import { EmptyState } from '../shared/empty-state';
import { ErrorBanner, errorMessage } from '../shared/error-banner';
import { StatusChip, type Tone } from '../shared/status';
import { Uploader, type UploadStage } from './uploader';

export const documentKinds: readonly { kind: DocumentKind; label: string }[] = [
  { kind: DocumentKind.VENDORS, label: 'Vendors' },
  { kind: DocumentKind.PURCHASE_ORDERS, label: 'Purchase orders' },
  { kind: DocumentKind.RECEIPTS, label: 'Receipts' },
  { kind: DocumentKind.INVOICES, label: 'Invoices' },
];

export function kindLabel(kind: DocumentKind): string {
  return documentKinds.find((entry) => entry.kind === kind)?.label ?? 'Unknown';
}

/** A guess from the file name ("purchase_orders.csv", "INV-2024-17.xml", a Factur-X "RE-0815.pdf"); the user can change it before uploading. */
export function guessKind(fileName: string): DocumentKind | undefined {
  const name = fileName.toLowerCase();
  if (name.endsWith('.xml') || name.endsWith('.pdf') || name.includes('invoice')) return DocumentKind.INVOICES;
  if (name.includes('vendor') || name.includes('supplier')) return DocumentKind.VENDORS;
  if (name.includes('purchase') || /(^|[^a-z])pos?([^a-z]|$)/.test(name)) return DocumentKind.PURCHASE_ORDERS;
  if (name.includes('receipt') || name.includes('goods')) return DocumentKind.RECEIPTS;
  return undefined;
}

const phaseLabels: Readonly<Record<ImportPhase, string>> = {
  [ImportPhase.UNSPECIFIED]: 'Starting',
  [ImportPhase.DETECTING]: 'Detecting the format',
  [ImportPhase.VALIDATING]: 'Validating rows',
  [ImportPhase.COMPLETED]: 'Storing',
};

const importStatusLabels: Readonly<Record<ImportStatus, { label: string; tone: Tone }>> = {
  [ImportStatus.UNSPECIFIED]: { label: 'Unknown', tone: 'neutral' },
  [ImportStatus.RECEIVED]: { label: 'Received', tone: 'neutral' },
  [ImportStatus.PROCESSING]: { label: 'Processing', tone: 'info' },
  [ImportStatus.STORED]: { label: 'Stored', tone: 'success' },
  [ImportStatus.REJECTED]: { label: 'Rejected', tone: 'danger' },
  [ImportStatus.FAILED]: { label: 'Failed', tone: 'danger' },
};

const bytes = new Intl.NumberFormat(undefined, { style: 'unit', unit: 'kilobyte', maximumFractionDigits: 1 });
const count = new Intl.NumberFormat();

type Upload =
  | { readonly state: 'idle' }
  | { readonly state: 'running'; readonly stage: UploadStage; readonly fileName: string }
  | { readonly state: 'done'; readonly result: ImportResult; readonly fileName: string }
  | { readonly state: 'failed'; readonly message: string; readonly fileName: string };

@Component({
  selector: 'app-imports',
  imports: [EmptyState, ErrorBanner, LiveBadge, RouterLink, StatusChip],
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './imports.html',
  styleUrls: ['../shared/workspace.css', './imports.css'],
})
export class Imports {
  private readonly uploader = inject(Uploader);
  private readonly imports = injectClient(ImportService);
  protected readonly user = inject(CurrentUser);

  protected readonly kinds = documentKinds;
  protected readonly outcome = ImportOutcome;
  protected readonly kindLabel = kindLabel;
  protected readonly formatTimestamp = formatTimestamp;

  protected readonly file = signal<File | undefined>(undefined);
  protected readonly kind = signal<DocumentKind | undefined>(undefined);
  protected readonly dragging = signal(false);
  protected readonly upload = signal<Upload>({ state: 'idle' });
  protected readonly busy = computed(() => this.upload().state === 'running');

  protected readonly history = signal<readonly Import[]>([]);
  protected readonly historyNextToken = signal('');
  protected readonly historyError = signal<string | undefined>(undefined);
  protected readonly historyLoading = signal(true);
  protected readonly downloadError = signal<string | undefined>(undefined);

  private abort: AbortController | undefined;

  protected readonly uploadPercent = computed(() => {
    const upload = this.upload();
    if (upload.state !== 'running' || upload.stage.stage !== 'uploading') return 100;
    const { sentBytes, totalBytes } = upload.stage;
    return totalBytes === 0 ? 100 : Math.round((sentBytes / totalBytes) * 100);
  });

  protected readonly uploadText = computed(() => {
    const upload = this.upload();
    if (upload.state !== 'running' || upload.stage.stage !== 'uploading') return 'Sent';
    return `${bytes.format(upload.stage.sentBytes / 1000)} of ${bytes.format(upload.stage.totalBytes / 1000)} sent`;
  });

  /** Server progress: bytes read of the file when known, else an indeterminate bar. */
  protected readonly serverProgress = computed(() => {
    const upload = this.upload();
    if (upload.state !== 'running' || upload.stage.stage !== 'processing') return undefined;
    const server = upload.stage.server;
    if (server === undefined) return { percent: undefined, text: 'Waiting for the server…' };
    const total = Number(server.totalBytes);
    const percent =
      total > 0 ? Math.min(100, Math.round((Number(server.bytesRead) / total) * 100)) : undefined;
    return {
      percent,
      text: `${phaseLabels[server.phase]}: ${count.format(Number(server.rowsRead))} rows read`,
    };
  });

  constructor() {
    void this.user.load();
    void this.loadHistory();
    const subscription = inject(LiveEvents)
      .on(topics.importsImported, topics.fileImported)
      .pipe(auditTime(500))
      .subscribe(() => void this.loadHistory());
    inject(DestroyRef).onDestroy(() => {
      subscription.unsubscribe();
      this.abort?.abort();
    });
  }

  protected importStatus(status: ImportStatus) {
    return importStatusLabels[status] ?? importStatusLabels[ImportStatus.UNSPECIFIED];
  }

  protected number(value: bigint | number): string {
    return count.format(value);
  }

  protected errorTotal(result: ImportResult): string {
    return count.format(BigInt(result.errors.length) + result.unlistedErrorCount);
  }

  protected onFileChosen(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.choose(input.files?.[0]);
    // Choosing the same file again (after fixing it) must fire `change` again.
    input.value = '';
  }

  protected onDragOver(event: DragEvent): void {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    this.dragging.set(true);
  }

  protected onDrop(event: DragEvent): void {
    event.preventDefault();
    this.dragging.set(false);
    this.choose(event.dataTransfer?.files?.[0]);
  }

  protected onKindChange(event: Event): void {
    const value = Number((event.target as HTMLSelectElement).value);
    this.kind.set(value === 0 ? undefined : (value as DocumentKind));
  }

  private choose(file: File | undefined): void {
    if (file === undefined) return;
    this.file.set(file);
    this.kind.update((current) => guessKind(file.name) ?? current);
    this.upload.set({ state: 'idle' });
  }

  protected async start(): Promise<void> {
    const file = this.file();
    const kind = this.kind();
    if (file === undefined || kind === undefined || this.busy()) return;
    this.abort = new AbortController();
    const fileName = file.name;
    this.upload.set({
      state: 'running',
      fileName,
      stage: { stage: 'uploading', sentBytes: 0, totalBytes: file.size },
    });
    try {
      const result = await this.uploader.upload(
        file,
        kind,
        (stage) => this.upload.set({ state: 'running', fileName, stage }),
        this.abort.signal,
      );
      this.upload.set({ state: 'done', fileName, result });
      this.file.set(undefined);
    } catch (failure) {
      this.upload.set({ state: 'failed', fileName, message: errorMessage(failure) });
    }
    void this.loadHistory();
  }

  protected cancel(): void {
    this.abort?.abort();
  }

  protected async loadHistory(more = false): Promise<void> {
    this.historyLoading.set(true);
    try {
      const response = await this.imports.listImports({
        pageSize: 20,
        pageToken: more ? this.historyNextToken() : '',
      });
      this.history.update((current) => (more ? [...current, ...response.imports] : response.imports));
      this.historyNextToken.set(response.nextPageToken);
      this.historyError.set(undefined);
    } catch (failure) {
      this.historyError.set(errorMessage(failure));
    } finally {
      this.historyLoading.set(false);
    }
  }

  protected async downloadErrors(importId: string): Promise<void> {
    this.downloadError.set(undefined);
    try {
      const file = await this.imports.downloadErrors({ importId });
      downloadFile(file.fileName || 'errors.csv', file.content as Uint8Array<ArrayBuffer>, file.contentType || 'text/csv');
    } catch (failure) {
      this.downloadError.set(errorMessage(failure));
    }
  }
}
