using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Invisible.Data.Audit;
using Invisible.Data.Diagnostics;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Canonical;
using Npgsql;

namespace Invisible.Data.Imports;

/// <summary>
/// Stores one file in the caller's unit of work: rows stream into a temporary staging table by binary COPY while the
/// file is validated, then merge into the tenant's tables set-based, together with the <c>imports</c> record and an audit
/// entry. Nothing is visible before the caller commits, so a crash or cancellation at any point leaves no trace.
/// </summary>
public static class ImportStore
{
    public static Task<ImportOutcome> StoreAsync(
        TenantUnitOfWork unitOfWork,
        ImportRequest request,
        Stream content,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken,
        IVendorSealing? vendorSealing = null) => request.Kind switch
        {
            DocumentKind.Vendors => StoreAsync<VendorRow>(unitOfWork, request, content, options, progress, cancellationToken, vendorSealing),
            DocumentKind.PurchaseOrders => StoreAsync<PurchaseOrderLineRow>(unitOfWork, request, content, options, progress, cancellationToken),
            DocumentKind.Receipts => StoreAsync<ReceiptRow>(unitOfWork, request, content, options, progress, cancellationToken),
            DocumentKind.Invoices => StoreAsync<InvoiceLineRow>(unitOfWork, request, content, options, progress, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Kind, "Unknown document kind."),
        };

    private static async Task<ImportOutcome> StoreAsync<TRow>(
        TenantUnitOfWork unitOfWork,
        ImportRequest request,
        Stream content,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken,
        IVendorSealing? vendorSealing = null)
        where TRow : class, ICanonicalRow<TRow>
    {
        var staging = ImportStaging.For<TRow>(unitOfWork.TenantId, vendorSealing);
        var parse = await StageAsync(unitOfWork, staging, request, content, options, progress, cancellationToken);

        if (!parse.Accepted)
        {
            var rejected = await InsertRecordAsync(unitOfWork, request, parse, ImportRecordStatus.Rejected, cancellationToken);
            await InsertErrorsAsync(unitOfWork, rejected.Id, parse, cancellationToken);
            await AuditAsync(unitOfWork, request, "import.rejected", rejected, cancellationToken);
            return new ImportOutcome(ImportOutcomeKind.Rejected, rejected, parse, ImportMergeSummary.None);
        }

        var record = await TryInsertStoredRecordAsync(unitOfWork, request, parse, cancellationToken);
        if (record is null)
        {
            var earlier = await ImportHistory.FindStoredAsync(unitOfWork, request.Kind, parse.ContentSha256, cancellationToken)
                ?? throw new InvalidOperationException($"Import of {request.FileName} conflicted with a stored import that cannot be found.");
            return new ImportOutcome(ImportOutcomeKind.Duplicate, earlier, parse, ImportMergeSummary.None);
        }

        using (ProductDiagnostics.StartSpan("import.merge", unitOfWork.TenantId))
        {
            var merge = await staging.MergeAsync(unitOfWork, record.Id, request, cancellationToken);
            await InsertErrorsAsync(unitOfWork, record.Id, parse, cancellationToken);
            record = await CompleteAsync(unitOfWork, record.Id, merge, cancellationToken);
            await AuditAsync(unitOfWork, request, "import.stored", record, cancellationToken, merge);
            // The tables' statistics are refreshed after the commit (ImportService): ANALYZE's table lock, held to the end of
            // this transaction behind the tenant's audit lock, deadlocked with a decision on arrival taking them the other way.
            return new ImportOutcome(ImportOutcomeKind.Stored, record, parse, merge);
        }
    }

    /// <summary>
    /// Streams the rows into a temporary staging table by binary COPY while the file is read (the detect and validate spans
    /// are this span's children); a rejected file's staged rows die with the temporary table.
    /// </summary>
    private static async Task<ImportParseResult> StageAsync<TRow>(
        TenantUnitOfWork unitOfWork,
        IImportStaging<TRow> staging,
        ImportRequest request,
        Stream content,
        ImportOptions options,
        IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken)
        where TRow : class, ICanonicalRow<TRow>
    {
        using var span = ProductDiagnostics.StartSpan("import.stage", unitOfWork.TenantId);
        // SQL: DDL of the temporary staging table has no LINQ form.
        await unitOfWork.ExecuteAsync(staging.CreateTableSql, null, cancellationToken);
        ImportParseResult parse;
        await using (var copy = new StagingCopy<TRow>(unitOfWork, staging))
        {
            parse = await ImportReader.ReadAsync<TRow>(
                content,
                request.FileName,
                options,
                new PostgresReferenceData(unitOfWork, copy.PauseAsync),
                copy.WriteAsync,
                progress,
                cancellationToken);
            await copy.PauseAsync(cancellationToken);
        }

        span?.SetTag("invisible.import.rows", parse.RowCount);
        span?.SetTag("invisible.import.accepted", parse.Accepted);
        return parse;
    }

    /// <summary>The tables a stored import of <paramref name="kind"/> writes to (the import record and its warnings too).</summary>
    public static IReadOnlyCollection<string> ChangedTables(DocumentKind kind) => kind switch
    {
        DocumentKind.Vendors => ["imports", "import_errors", "vendors", "vendor_aliases"],
        DocumentKind.PurchaseOrders => ["imports", "import_errors", "purchase_orders", "purchase_order_lines"],
        DocumentKind.Receipts => ["imports", "import_errors", "receipts", "receipt_lines"],
        DocumentKind.Invoices => ["imports", "import_errors", "invoices", "invoice_lines"],
        _ => ["imports", "import_errors"],
    };

    private static async Task<ImportRecord?> TryInsertStoredRecordAsync(
        TenantUnitOfWork unitOfWork, ImportRequest request, ImportParseResult parse, CancellationToken cancellationToken)
    {
        // Inserted as 'stored' at once so the unique index sees it: a concurrent import of the same content waits here for
        // this transaction and then conflicts, so exactly one stores it. Nobody sees the record before the commit anyway.
        // SQL: insert ... on conflict do nothing against a partial unique index, returning the id.
        var id = await unitOfWork.Db.ExecuteAsync<Guid?>(
            """
            insert into imports (tenant_id, kind, file_name, content_sha256, source, status, row_count, error_count, warning_count, uploaded_by)
            values (@tenantId, @kind, @fileName, decode(@sha256, 'hex'), @source, 'stored', @rowCount, 0, @warningCount, @actor)
            on conflict (tenant_id, kind, content_sha256) where status = 'stored' do nothing
            returning id
            """, RecordParameters(unitOfWork, request, parse), cancellationToken);
        return id is { } importId ? await ImportHistory.GetAsync(unitOfWork, importId, cancellationToken) : null;
    }

    private static async Task<ImportRecord> InsertRecordAsync(
        TenantUnitOfWork unitOfWork, ImportRequest request, ImportParseResult parse, ImportRecordStatus status, CancellationToken cancellationToken)
    {
        // SQL: the content hash is decoded from hex in the statement and the id returned in the same round trip.
        var id = await unitOfWork.Db.ExecuteAsync<Guid>(
            """
            insert into imports (tenant_id, kind, file_name, content_sha256, source, status, row_count, error_count, warning_count, uploaded_by, completed_at)
            values (@tenantId, @kind, @fileName, decode(@sha256, 'hex'), @source, @status, @rowCount, @errorCount, @warningCount, @actor, now())
            returning id
            """, RecordParameters(unitOfWork, request, parse, status), cancellationToken);
        return await ImportHistory.GetAsync(unitOfWork, id, cancellationToken);
    }

    /// <param name="status">The outcome of a record inserted completed (with <c>@status</c> and <c>@errorCount</c>); null for a stored one.</param>
    private static object RecordParameters(
        TenantUnitOfWork unitOfWork, ImportRequest request, ImportParseResult parse, ImportRecordStatus? status = null) => new
    {
        tenantId = unitOfWork.TenantId,
        kind = ImportNames.Of(request.Kind),
        fileName = request.FileName,
        sha256 = parse.ContentSha256.ToLowerInvariant(),
        source = ImportNames.Of(request.Source),
        rowCount = (int)parse.RowCount,
        warningCount = parse.Warnings.Count,
        actor = request.Actor,
        status = status is { } outcome ? ImportNames.Of(outcome) : null,
        errorCount = (int)Math.Min(parse.TotalErrorCount, int.MaxValue),
    };

    private static async Task<ImportRecord> CompleteAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportMergeSummary merge, CancellationToken cancellationToken)
    {
        await unitOfWork.Db.GetTable<ImportHistory.ImportRow>()
            .Where(import => import.TenantId == unitOfWork.TenantId && import.Id == importId)
            .Set(import => import.StoredCount, (int)merge.Stored)
            .Set(import => import.CompletedAt, () => (DateTimeOffset?)Sql.CurrentTzTimestamp)
            .UpdateAsync(cancellationToken);
        return await ImportHistory.GetAsync(unitOfWork, importId, cancellationToken);
    }

    /// <summary>Errors (listed ones; the rest are counted on the record) and warnings, set-based.</summary>
    private static Task InsertErrorsAsync(TenantUnitOfWork unitOfWork, Guid importId, ImportParseResult parse, CancellationToken cancellationToken)
    {
        var entries = parse.Errors.Select(e => (Line: e.Line, e.Column, e.Value, e.Reason, Severity: "error"))
            .Concat(parse.Warnings.Select(w => (Line: w.Line, w.Column, Value: (string?)null, Reason: w.Message, Severity: "warning")))
            .ToList();
        return entries.Count == 0
            ? Task.CompletedTask
            // SQL: errors and warnings inserted set-based from unnest() of parallel arrays.
            : unitOfWork.ExecuteAsync(
                """
                insert into import_errors (tenant_id, import_id, line, column_name, value, reason, severity)
                select @tenantId, @importId, nullif(line, 0), column_name, value, reason, severity
                from unnest(@lines, @columns, @values, @reasons, @severities) as e(line, column_name, value, reason, severity)
                """,
                new
                {
                    tenantId = unitOfWork.TenantId,
                    importId,
                    lines = entries.Select(e => e.Line).ToArray(),
                    columns = entries.Select(e => e.Column).ToArray(),
                    values = entries.Select(e => e.Value).ToArray(),
                    reasons = entries.Select(e => e.Reason).ToArray(),
                    severities = entries.Select(e => e.Severity).ToArray(),
                },
                cancellationToken);
    }

    private static Task<long> AuditAsync(
        TenantUnitOfWork unitOfWork, ImportRequest request, string action, ImportRecord record, CancellationToken cancellationToken,
        ImportMergeSummary? merge = null) =>
        AuditLog.AppendAsync(
            unitOfWork,
            request.Actor,
            action,
            "import",
            record.Id.ToString(),
            before: null,
            after: new
            {
                kind = ImportNames.Of(record.Kind),
                fileName = record.FileName,
                sha256 = record.ContentSha256,
                rows = record.RowCount,
                errors = record.ErrorCount,
                inserted = merge?.Inserted,
                updated = merge?.Updated,
                unchanged = merge?.Unchanged,
                replacedPurchaseOrders = merge?.ReplacedPurchaseOrders,
            },
            request.RequestId,
            cancellationToken);
}
