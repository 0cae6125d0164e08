using Microsoft.AspNetCore.RateLimiting;
using System.Globalization;
using System.Threading.Channels;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Imports.V1;
using Invisible.Data.Imports;
using Invisible.Identity;
using Contract = Invisible.Contracts.Imports.V1;
using Grpc.Core;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace Invisible.Server.Imports;

/// <summary>
/// The gRPC face of <see cref="ImportService"/> (protos/invisible/imports/v1/imports.proto). Admins and clerks import;
/// every role may read the history, which approvers and auditors need to trace a result to its file.
/// </summary>
public sealed class ImportServiceHandler(ImportService imports, UploadSessions uploads)
    : Contracts.Imports.V1.ImportService.ImportServiceBase
{
    private const string ErrorDomain = "imports.invisible.app";
    private const int ListedErrors = 100;
    private const int MaxPageSize = 200;

    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<StartUploadResponse> StartUpload(StartUploadRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var violations = new List<FieldViolation>();
        var kind = ToKind(request.Kind, violations);
        if (string.IsNullOrWhiteSpace(request.FileName) || request.FileName.Length > 255)
        {
            violations.Add(new FieldViolation("file_name", "a file name of 1 to 255 characters is required"));
        }

        if (request.Size <= 0)
        {
            violations.Add(new FieldViolation("size", "the file's size in bytes must be positive"));
        }

        var options = ToUploadOptions(request.Options, violations);
        ThrowIfAny(violations);
        var session = await Run(() => uploads.StartAsync(
            caller.TenantId, kind, Path.GetFileName(request.FileName), request.Size, options, caller.UserId.ToString(), context.CancellationToken));
        return new StartUploadResponse
        {
            UploadId = session.UploadId.ToString(),
            MaxChunkBytes = UploadSessions.MaxChunkBytes,
            ExpiresAt = Timestamp.FromDateTimeOffset(session.ExpiresAt),
        };
    }

    [EnableRateLimiting(RequestRateLimits.HeavyCall)]
    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<UploadChunkResponse> UploadChunk(UploadChunkRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var uploadId = RequestFields.ParseId(request.UploadId, "upload_id");
        var received = await Run(() => uploads.AppendAsync(caller.TenantId, uploadId, request.Offset, request.Data.Memory, context.CancellationToken));
        return new UploadChunkResponse { ReceivedBytes = received };
    }

    [EnableRateLimiting(RequestRateLimits.HeavyCall)]
    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task CompleteUpload(CompleteUploadRequest request, IServerStreamWriter<ImportEvent> responseStream, ServerCallContext context)
    {
        var caller = context.Caller();
        var uploadId = RequestFields.ParseId(request.UploadId, "upload_id");
        var cancellationToken = context.CancellationToken;
        var (session, content) = await Run(() => uploads.CompleteAsync(caller.TenantId, uploadId, request.Sha256, cancellationToken));
        await using (content)
        {
            // The reader reports synchronously; a one-slot channel hands the latest report to the stream without blocking it.
            var reports = Channel.CreateBounded<Ingestion.ImportProgress>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
            var importing = Task.Run(
                async () =>
                {
                    try
                    {
                        return await imports.ImportAsync(
                            caller.TenantId,
                            new ImportRequest(session.Kind, session.FileName, SourceOf(caller), caller.UserId.ToString(), context.RequestId()),
                            content,
                            ToImportOptions(session.Options),
                            new ChannelProgress(reports.Writer),
                            cancellationToken);
                    }
                    finally
                    {
                        reports.Writer.Complete();
                    }
                },
                cancellationToken);

            await foreach (var progress in reports.Reader.ReadAllAsync(cancellationToken))
            {
                await responseStream.WriteAsync(new ImportEvent { Progress = ToContract(progress) }, cancellationToken);
            }

            var outcome = await importing;
            await responseStream.WriteAsync(new ImportEvent { Result = ToContract(outcome) }, cancellationToken);
            if (outcome.Kind == ImportOutcomeKind.Rejected)
            {
                throw Rejected(outcome.Parse);
            }
        }
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<Contract.Import> GetImport(GetImportRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var importId = RequestFields.ParseId(request.ImportId, "import_id");
        var record = await imports.FindAsync(caller.TenantId, importId, context.CancellationToken);
        return record is null
            ? throw new DomainException(ErrorKind.NotFound, $"Import {importId} does not exist.")
            : ToContract(record);
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListImportsResponse> ListImports(ListImportsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize);
        var before = RequestFields.ParseSequenceToken(request.PageToken);

        var page = await imports.ListAsync(caller.TenantId, before, pageSize, context.CancellationToken);
        var response = new ListImportsResponse
        {
            NextPageToken = page.Count == pageSize ? RequestFields.SequenceToken(page[^1].ImportNo) : string.Empty,
        };
        response.Imports.AddRange(page.Select(ToContract));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<DownloadErrorsResponse> DownloadErrors(DownloadErrorsRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var importId = RequestFields.ParseId(request.ImportId, "import_id");
        var csv = await imports.GetErrorCsvAsync(caller.TenantId, importId, context.CancellationToken)
            ?? throw new DomainException(ErrorKind.NotFound, $"Import {importId} has no error file (it does not exist or was not rejected).");
        return new DownloadErrorsResponse
        {
            FileName = $"import-{importId:N}-errors.csv",
            ContentType = "text/csv; charset=utf-8",
            Content = ByteString.CopyFrom(csv),
        };
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<SavedColumnMapping> GetColumnMapping(GetColumnMappingRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var violations = new List<FieldViolation>();
        var kind = ToKind(request.Kind, violations);
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The request is invalid.", violations);
        }

        return ToContract(kind, await imports.GetColumnMappingAsync(caller.TenantId, kind, context.CancellationToken));
    }

    // Those who import decide how their files' headers are read.
    [Authorize(Policy = AccessPolicies.Clerk)]
    public override async Task<SavedColumnMapping> SaveColumnMapping(SaveColumnMappingRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var violations = new List<FieldViolation>();
        var kind = ToKind(request.Kind, violations);
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The request is invalid.", violations);
        }

        var (saved, problems) = await imports.SaveColumnMappingAsync(
            caller.TenantId, kind, request.Entries.Select(entry => KeyValuePair.Create(entry.Header, entry.Column)), caller.UserId.ToString(),
            context.RequestId(), context.CancellationToken);
        return saved is null
            ? throw DomainException.InvalidArgument(
                "The column mapping is invalid; nothing was saved.", problems.Select(problem => new FieldViolation("entries", problem)).ToList())
            : ToContract(kind, saved);
    }

    private static SavedColumnMapping ToContract(Ingestion.DocumentKind kind, IReadOnlyDictionary<string, string> mapping)
    {
        var contract = new SavedColumnMapping { Kind = ToContract(kind) };
        contract.Entries.AddRange(mapping.OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .Select(entry => new ColumnMappingEntry { Header = entry.Key, Column = entry.Value }));
        contract.CanonicalColumns.AddRange(Ingestion.ColumnMapping.CanonicalColumns(kind));
        return contract;
    }

    private static async Task<T> Run<T>(Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (UploadException exception)
        {
            var status = exception.Reason switch
            {
                UploadException.NotFound => ErrorKind.NotFound,
                UploadException.TooLarge => ErrorKind.InvalidArgument,
                UploadException.ChecksumMismatch => ErrorKind.DataLoss,
                UploadException.QuotaExceeded => ErrorKind.ResourceExhausted,
                _ => ErrorKind.FailedPrecondition,
            };
            throw DomainException.WithReason(
                status,
                exception.Message,
                exception.Reason,
                ErrorDomain,
                exception.ExpectedOffset is { } offset
                    ? new Dictionary<string, string> { ["expected_offset"] = offset.ToString(CultureInfo.InvariantCulture) }
                    : null);
        }
    }

    /// <summary>The first errors as field violations (<c>lines[12].quantity</c>), plus one that counts the rest.</summary>
    private static DomainException Rejected(Ingestion.ImportParseResult parse)
    {
        if (parse.Errors is [{ Code: Ingestion.ImportErrorCodes.NoInvoiceData } only])
        {
            // A PDF with nothing to read: clients (and e-mail intake) branch on the reason to offer keying it by hand.
            return DomainException.WithReason(ErrorKind.InvalidArgument, $"{parse.FileName}: {only.Reason}", only.Code, ErrorDomain);
        }

        var violations = parse.Errors.Take(ListedErrors)
            .Select(error => new FieldViolation(
                error.Line == 0 ? "file" : error.Column is null ? $"lines[{error.Line}]" : $"lines[{error.Line}].{error.Column}",
                error.Value is null ? error.Reason : $"'{error.Value}': {error.Reason}",
                error.Code))
            .ToList();
        var unlisted = parse.TotalErrorCount - violations.Count;
        if (unlisted > 0)
        {
            violations.Add(new FieldViolation("file", $"{unlisted} more errors not listed; download the error file for all of them"));
        }

        return DomainException.InvalidArgument($"{parse.FileName} was rejected with {parse.TotalErrorCount} errors; nothing was stored.", violations);
    }

    private static void ThrowIfAny(List<FieldViolation> violations)
    {
        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The upload request is invalid.", violations);
        }
    }

    /// <summary>A file sent with an API key came from another system, not from a person in the web app.</summary>
    private static ImportSource SourceOf(Identity.Tokens.Caller caller) =>
        caller.Kind == Identity.Tokens.CallerKind.ApiKey ? ImportSource.Api : ImportSource.Upload;

    private static Ingestion.DocumentKind ToKind(Contract.DocumentKind kind, List<FieldViolation> violations)
    {
        switch (kind)
        {
            case Contract.DocumentKind.Vendors: return Ingestion.DocumentKind.Vendors;
            case Contract.DocumentKind.PurchaseOrders: return Ingestion.DocumentKind.PurchaseOrders;
            case Contract.DocumentKind.Receipts: return Ingestion.DocumentKind.Receipts;
            case Contract.DocumentKind.Invoices: return Ingestion.DocumentKind.Invoices;
            default:
                violations.Add(new FieldViolation("kind", "must be vendors, purchase orders, receipts or invoices"));
                return default;
        }
    }

    private static Contract.DocumentKind ToContract(Ingestion.DocumentKind kind) => kind switch
    {
        Ingestion.DocumentKind.Vendors => Contract.DocumentKind.Vendors,
        Ingestion.DocumentKind.PurchaseOrders => Contract.DocumentKind.PurchaseOrders,
        Ingestion.DocumentKind.Receipts => Contract.DocumentKind.Receipts,
        Ingestion.DocumentKind.Invoices => Contract.DocumentKind.Invoices,
        _ => Contract.DocumentKind.Unspecified,
    };

    private static UploadOptions ToUploadOptions(Contract.ImportOptions? options, List<FieldViolation> violations)
    {
        if (options is null)
        {
            return new UploadOptions(null, null, null, null);
        }

        var parsed = Ingestion.ImportOptions.Parse(options.Culture, options.Delimiter, options.DateFormat, options.Encoding);
        violations.AddRange(parsed.Errors.Select(error => new FieldViolation(OptionField(error.Option), $"'{error.Value}' {error.Problem}")));
        return new UploadOptions(Empty(options.Culture), parsed.Options?.Delimiter, Empty(options.DateFormat), Empty(options.Encoding));
    }

    private static string OptionField(Ingestion.ImportOption option) => option switch
    {
        Ingestion.ImportOption.Culture => "options.culture",
        Ingestion.ImportOption.Delimiter => "options.delimiter",
        Ingestion.ImportOption.Encoding => "options.encoding",
        _ => "options",
    };

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    // The session keeps the options as the uploader wrote them; they were checked when the upload started.
    private static Ingestion.ImportOptions ToImportOptions(UploadOptions options) =>
        Ingestion.ImportOptions.Parse(options.Culture, options.Delimiter?.ToString(), options.DateFormat, options.Encoding).Options
        ?? throw new InvalidOperationException("The options of an upload were accepted when it started but no longer are.");

    private static Contract.ImportProgress ToContract(Ingestion.ImportProgress progress) => new()
    {
        Phase = progress.Phase switch
        {
            // The contract has no copying phase: copying is the first step of getting to know the file.
            Ingestion.ImportPhase.Copying or Ingestion.ImportPhase.Detecting => Contract.ImportPhase.Detecting,
            Ingestion.ImportPhase.Validating => Contract.ImportPhase.Validating,
            _ => Contract.ImportPhase.Completed,
        },
        RowsRead = progress.RowsProcessed,
        BytesRead = progress.BytesProcessed,
        TotalBytes = progress.TotalBytes ?? 0,
    };

    private static ImportResult ToContract(Data.Imports.ImportOutcome outcome)
    {
        var result = new ImportResult
        {
            Outcome = outcome.Kind switch
            {
                ImportOutcomeKind.Stored => Contract.ImportOutcome.Stored,
                ImportOutcomeKind.Duplicate => Contract.ImportOutcome.Duplicate,
                _ => Contract.ImportOutcome.Rejected,
            },
            Import = ToContract(outcome.Record),
            Inserted = outcome.Merge.Inserted,
            Updated = outcome.Merge.Updated,
            Unchanged = outcome.Merge.Unchanged,
            ReplacedPurchaseOrders = outcome.Merge.ReplacedPurchaseOrders,
            UnlistedErrorCount = Math.Max(0, outcome.Parse.TotalErrorCount - Math.Min(outcome.Parse.Errors.Count, ListedErrors)),
            ErrorCsvAvailable = outcome.Kind == ImportOutcomeKind.Rejected,
        };
        result.Errors.AddRange(outcome.Parse.Errors.Take(ListedErrors).Select(e => new ImportError
        {
            File = e.FileName,
            Line = e.Line,
            Column = e.Column ?? string.Empty,
            Value = e.Value ?? string.Empty,
            Reason = e.Reason,
        }));
        result.Warnings.AddRange(outcome.Parse.Warnings.Take(ListedErrors).Select(w => new ImportError
        {
            File = w.FileName,
            Line = w.Line,
            Column = w.Column ?? string.Empty,
            Reason = w.Message,
        }));
        return result;
    }

    private static Contract.Import ToContract(ImportRecord record)
    {
        var import = new Contract.Import
        {
            Id = record.Id.ToString(),
            ImportNo = record.ImportNo,
            Kind = ToContract(record.Kind),
            FileName = record.FileName,
            Sha256 = record.ContentSha256,
            Source = ImportNames.Of(record.Source),
            Status = record.Status switch
            {
                ImportRecordStatus.Received => ImportStatus.Received,
                ImportRecordStatus.Processing => ImportStatus.Processing,
                ImportRecordStatus.Stored => ImportStatus.Stored,
                ImportRecordStatus.Rejected => ImportStatus.Rejected,
                _ => ImportStatus.Failed,
            },
            RowCount = record.RowCount,
            StoredCount = record.StoredCount,
            ErrorCount = record.ErrorCount,
            WarningCount = record.WarningCount,
            UploadedBy = record.UploadedBy ?? string.Empty,
            ReceivedAt = Timestamp.FromDateTimeOffset(record.ReceivedAt),
        };
        if (record.CompletedAt is { } completed)
        {
            import.CompletedAt = Timestamp.FromDateTimeOffset(completed);
        }

        return import;
    }

    private sealed class ChannelProgress(ChannelWriter<Ingestion.ImportProgress> writer) : IProgress<Ingestion.ImportProgress>
    {
        public void Report(Ingestion.ImportProgress value) => writer.TryWrite(value);
    }
}
