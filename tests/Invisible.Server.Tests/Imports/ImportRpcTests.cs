using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Invisible.Contracts.Imports.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Invisible.Server.Tests.Accounts;

namespace Invisible.Server.Tests.Imports;

/// <summary>The chunked upload over real h2c gRPC, signed in through the product's own sign-in flow.</summary>
[Collection(AccountsCollection.Name)]
public sealed class ImportRpcTests(AccountsServer server)
{
    private const string Vendors = """
        vendor_code,name,country,currency
        V1,Acme Supplies Ltd,GB,GBP
        V2,Bolt & Nut GmbH,DE,EUR
        V3,Carbon Paper Co,US,USD
        """;

    private static MethodDescriptor Method(string name) => ImportsReflection.Descriptor.Services[0].FindMethodByName(name);

    [Fact]
    public async Task A_file_uploaded_in_chunks_streams_progress_then_its_result_and_appears_in_the_history()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var file = Encoding.UTF8.GetBytes(Vendors);

        var uploadId = await UploadAsync(tenant, token, DocumentKind.Vendors, "vendors.csv", file, chunkBytes: 40);
        var (status, events, _) = await CompleteAsync(token, uploadId, file);

        Assert.Equal(StatusCode.OK, status);
        Assert.Contains(events, e => e.EventCase == ImportEvent.EventOneofCase.Progress);
        var result = events[^1].Result;
        Assert.Equal((ImportOutcome.Stored, 3L, 3), (result.Outcome, result.Inserted, result.Import.RowCount));
        var fetched = (await tenant.CallAsync(Method("GetImport"), new GetImportRequest { ImportId = result.Import.Id }, token)).As<Import>();
        Assert.Equal((ImportStatus.Stored, "vendors.csv", Convert.ToHexStringLower(SHA256.HashData(file))), (fetched.Status, fetched.FileName, fetched.Sha256));
        var history = (await tenant.CallAsync(Method("ListImports"), new ListImportsRequest(), token)).As<ListImportsResponse>();
        Assert.Equal([result.Import.Id], history.Imports.Select(i => i.Id));
    }

    [Fact]
    public async Task A_rejected_upload_sends_its_result_then_ends_with_invalid_argument_naming_each_line_and_offers_the_error_csv()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var file = Encoding.UTF8.GetBytes("""
            receipt_number,po_number,po_line_no,received_date,quantity_received
            GR-1,PO-404,1,2026-01-10,5
            GR-2,PO-405,1,not a date,5
            """);

        var uploadId = await UploadAsync(tenant, token, DocumentKind.Receipts, "receipts.csv", file, chunkBytes: 1 << 20);
        var (status, events, violations) = await CompleteAsync(token, uploadId, file);

        Assert.Equal(StatusCode.InvalidArgument, status);
        var result = events[^1].Result;
        Assert.Equal((ImportOutcome.Rejected, true), (result.Outcome, result.ErrorCsvAvailable));
        Assert.Contains("lines[2].po_line_no", violations);
        Assert.Contains("lines[3].received_date", violations);
        var download = (await tenant.CallAsync(Method("DownloadErrors"), new DownloadErrorsRequest { ImportId = result.Import.Id }, token)).As<DownloadErrorsResponse>();
        Assert.StartsWith("file,line,column,value,reason", download.Content.ToStringUtf8(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pdf_without_invoice_data_is_rejected_with_the_reason_no_invoice_data_so_it_can_be_keyed_by_hand()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddText("Invoice 4711, printed only", 12, new UglyToad.PdfPig.Core.PdfPoint(50, 700), font);
        var file = builder.Build();

        var uploadId = await UploadAsync(tenant, token, DocumentKind.Invoices, "scan-4711.pdf", file, chunkBytes: 1 << 20);
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var exception = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = new ImportService.ImportServiceClient(channel).CompleteUpload(
                new CompleteUploadRequest { UploadId = uploadId, Sha256 = Convert.ToHexString(SHA256.HashData(file)) },
                new Metadata { { "authorization", $"Bearer {token}" } });
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });

        Assert.Equal((StatusCode.InvalidArgument, Invisible.Ingestion.ImportErrorCodes.NoInvoiceData),
            (exception.StatusCode, exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason));
    }

    [Fact]
    public async Task A_column_mapping_saved_over_rpc_applies_to_the_next_upload_and_a_bad_one_is_refused_entry_by_entry()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var request = new SaveColumnMappingRequest { Kind = DocumentKind.Vendors };
        request.Entries.Add(new ColumnMappingEntry { Header = "Kreditor #", Column = "vendor_code" });
        request.Entries.Add(new ColumnMappingEntry { Header = "Firma", Column = "name" });
        var bad = new SaveColumnMappingRequest { Kind = DocumentKind.Vendors };
        bad.Entries.Add(new ColumnMappingEntry { Header = "Firma", Column = "po_number" });

        var saved = (await tenant.CallAsync(Method("SaveColumnMapping"), request, token)).As<SavedColumnMapping>();
        var refused = await tenant.CallAsync(Method("SaveColumnMapping"), bad, token);
        var fetched = (await tenant.CallAsync(Method("GetColumnMapping"), new GetColumnMappingRequest { Kind = DocumentKind.Vendors }, token)).As<SavedColumnMapping>();
        var file = Encoding.UTF8.GetBytes("Kreditor #,Firma\nK-1,Acme Supplies Ltd\n");
        var uploadId = await UploadAsync(tenant, token, DocumentKind.Vendors, "kreditoren.csv", file, chunkBytes: 1 << 20);
        var (status, events, _) = await CompleteAsync(token, uploadId, file);

        Assert.Equal([("firma", "name"), ("kreditorno", "vendor_code")], saved.Entries.Select(e => (e.Header, e.Column)));
        Assert.Contains("vendor_code", saved.CanonicalColumns);
        Assert.Equal(StatusCode.InvalidArgument, refused.Status);
        Assert.Equal(saved, fetched); // the refused mapping changed nothing
        Assert.Equal((StatusCode.OK, ImportOutcome.Stored), (status, events[^1].Result.Outcome));
    }

    [Fact]
    public async Task A_chunk_at_the_wrong_offset_is_refused_with_the_offset_to_resume_from()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var start = (await tenant.CallAsync(Method("StartUpload"),
            new StartUploadRequest { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = 100 }, token)).As<StartUploadResponse>();

        var skipped = await tenant.CallAsync(Method("UploadChunk"),
            new UploadChunkRequest { UploadId = start.UploadId, Offset = 50, Data = ByteString.CopyFrom(new byte[50]) }, token);

        Assert.Equal((StatusCode.FailedPrecondition, "UPLOAD_OFFSET_MISMATCH"), (skipped.Status, skipped.Reason));
    }

    [Fact]
    public async Task Imports_need_a_signed_in_caller_and_an_auditor_may_read_the_history_but_not_upload()
    {
        var tenant = await server.NewTenantAsync();
        var auditor = await tenant.AddUserAsync(Identity.Roles.Auditor);
        var token = (await tenant.FullSessionAsync(auditor)).AccessToken;
        var request = new StartUploadRequest { Kind = DocumentKind.Vendors, FileName = "vendors.csv", Size = 10 };

        var anonymous = await tenant.CallAsync(Method("StartUpload"), request);
        var byAuditor = await tenant.CallAsync(Method("StartUpload"), request, token);
        var historyByAuditor = await tenant.CallAsync(Method("ListImports"), new ListImportsRequest(), token);

        Assert.Equal(StatusCode.Unauthenticated, anonymous.Status);
        Assert.Equal(StatusCode.PermissionDenied, byAuditor.Status);
        Assert.Equal(StatusCode.OK, historyByAuditor.Status);
    }

    private static async Task<string> UploadAsync(TestTenant tenant, string token, DocumentKind kind, string fileName, byte[] file, int chunkBytes)
    {
        var start = (await tenant.CallAsync(Method("StartUpload"),
            new StartUploadRequest { Kind = kind, FileName = fileName, Size = file.Length }, token)).As<StartUploadResponse>();
        for (var offset = 0; offset < file.Length; offset += chunkBytes)
        {
            var chunk = file.AsMemory(offset, Math.Min(chunkBytes, file.Length - offset));
            var reply = (await tenant.CallAsync(Method("UploadChunk"),
                new UploadChunkRequest { UploadId = start.UploadId, Offset = offset, Data = ByteString.CopyFrom(chunk.Span) }, token)).As<UploadChunkResponse>();
            Assert.Equal(offset + chunk.Length, reply.ReceivedBytes);
        }

        return start.UploadId;
    }

    /// <summary>CompleteUpload is server streaming: every message received, then the status and the field violations of its details.</summary>
    private async Task<(StatusCode Status, List<ImportEvent> Events, List<string> ViolatedFields)> CompleteAsync(string token, string uploadId, byte[] file)
    {
        using var channel = GrpcChannel.ForAddress(server.Server.Endpoints.Grpc);
        var imports = new ImportService.ImportServiceClient(channel);
        var events = new List<ImportEvent>();
        try
        {
            using var call = imports.CompleteUpload(
                new CompleteUploadRequest { UploadId = uploadId, Sha256 = Convert.ToHexString(SHA256.HashData(file)) },
                new Metadata { { "authorization", $"Bearer {token}" } });
            await foreach (var importEvent in call.ResponseStream.ReadAllAsync())
            {
                events.Add(importEvent);
            }

            return (StatusCode.OK, events, []);
        }
        catch (RpcException exception)
        {
            var violations = exception.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(violation => violation.Field).ToList() ?? [];
            return (exception.StatusCode, events, violations);
        }
    }
}
