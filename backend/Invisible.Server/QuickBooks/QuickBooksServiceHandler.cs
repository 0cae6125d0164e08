using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Invisible.Contracts.QuickBooks.V1;
using Invisible.Data.Tenancy;
using Invisible.Platform.Secrets;
using Invisible.Server.Errors;
using Invisible.Server.Rpc;
using Invisible.Server.Security;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Invisible.Server.QuickBooks;

/// <summary>
/// <c>invisible.quickbooks.v1.QuickBooksService</c>: every role sees the connection and the export states; admins connect,
/// configure and disconnect; reviewers retry a failed export.
/// </summary>
public sealed class QuickBooksServiceHandler(
    QuickBooksConnections connections, QuickBooksExporter exporter, QuickBooksOAuth oauth, QuickBooksExportCounts exportCounts, QuickBooksMapping mapping,
    TenantDatabase database, IOptions<QuickBooksOptions> options)
    : QuickBooksService.QuickBooksServiceBase
{
    public const string ErrorDomain = "quickbooks.invisible.app";
    private const int MaxPageSize = 200;

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<Connection> GetConnection(GetConnectionRequest request, ServerCallContext context) =>
        await ConnectionAsync(context.Caller().TenantId, context.CancellationToken);

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<StartConnectResponse> StartConnect(StartConnectRequest request, ServerCallContext context)
    {
        var redirectUri = !string.IsNullOrWhiteSpace(options.Value.RedirectUri) ? options.Value.RedirectUri : request.RedirectUri;
        if (!Uri.TryCreate(redirectUri, UriKind.Absolute, out var redirect) || redirect.Scheme is not ("https" or "http")
            || redirect.AbsolutePath != QuickBooksRegistration.CallbackPath)
        {
            throw DomainException.InvalidArgument(
                "Name the product's QuickBooks callback address.", new FieldViolation("redirect_uri", $"must be an absolute http(s) URL ending in {QuickBooksRegistration.CallbackPath}"));
        }

        var caller = context.Caller();
        var state = await connections.NewOAuthStateAsync(caller.TenantId, caller.UserId.ToString(), context.CancellationToken);
        try
        {
            return new StartConnectResponse { AuthorizeUrl = await oauth.AuthorizeUrlAsync(state, redirectUri!, context.CancellationToken) };
        }
        catch (SecretNotFoundException)
        {
            throw DomainException.WithReason(
                ErrorKind.FailedPrecondition, "The QuickBooks app is not configured: set QuickBooks:ClientId and QuickBooks:ClientSecret (or the secrets quickbooks-client-id and quickbooks-client-secret).",
                "QUICKBOOKS_NOT_CONFIGURED", ErrorDomain);
        }
    }

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<Connection> Disconnect(DisconnectRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        await connections.DisconnectAsync(caller.TenantId, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        return await ConnectionAsync(caller.TenantId, context.CancellationToken);
    }

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<Connection> Configure(ConfigureRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        try
        {
            await connections.ConfigureAsync(
                caller.TenantId, request.DefaultExpenseAccountId.Trim(), request.HasCreateMissingVendors ? request.CreateMissingVendors : null,
                caller.UserId.ToString(), context.RequestId(), context.CancellationToken,
                request.HasDefaultItemId ? request.DefaultItemId.Trim() : null, request.HasDefaultTaxCodeId ? request.DefaultTaxCodeId.Trim() : null);
        }
        catch (QuickBooksNotConnectedException exception)
        {
            throw NotConnected(exception);
        }
        catch (ArgumentException exception)
        {
            var field = exception.Message.Contains(" item ", StringComparison.Ordinal) ? "default_item_id"
                : exception.Message.Contains(" taxcode ", StringComparison.Ordinal) ? "default_tax_code_id" : "default_expense_account_id";
            throw DomainException.InvalidArgument(exception.Message, new FieldViolation(field, "must be one of the connected company's"));
        }

        return await ConnectionAsync(caller.TenantId, context.CancellationToken);
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListExportsResponse> ListExports(ListExportsRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        var pageSize = RequestFields.PageSize(request.PageSize, MaxPageSize, violations);
        Guid? invoiceId = request.InvoiceId.Length == 0 ? null : RequestFields.ParseId(request.InvoiceId, "invoice_id");
        if (request.State.Length > 0 && request.State is not (QuickBooksExportState.Waiting or QuickBooksExportState.Exported or QuickBooksExportState.Failed or QuickBooksExportState.Differs))
        {
            violations.Add(new FieldViolation("state", "must be waiting, exported, failed or differs"));
        }

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The export list request is not valid.", violations);
        }

        var response = new ListExportsResponse();
        response.Exports.AddRange(await ExportsAsync(context.Caller().TenantId, request.State, invoiceId, pageSize, context.CancellationToken));
        return response;
    }

    [Authorize(Policy = AccessPolicies.AdminPerson)]
    public override async Task<CompanyLists> GetCompanyLists(GetCompanyListsRequest request, ServerCallContext context)
    {
        QuickBooksCompanyLists lists;
        try
        {
            lists = await mapping.CompanyListsAsync(context.Caller().TenantId, context.CancellationToken);
        }
        catch (QuickBooksNotConnectedException exception)
        {
            throw NotConnected(exception);
        }

        var response = new CompanyLists();
        response.ExpenseAccounts.AddRange(lists.ExpenseAccounts.Select(ToChoice));
        response.Items.AddRange(lists.Items.Select(ToChoice));
        response.Vendors.AddRange(lists.Vendors.Select(ToChoice));
        response.TaxCodes.AddRange(lists.TaxCodes.Select(ToChoice));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Reader)]
    public override async Task<ListVendorMappingsResponse> ListVendorMappings(ListVendorMappingsRequest request, ServerCallContext context)
    {
        var response = new ListVendorMappingsResponse();
        response.Mappings.AddRange((await mapping.VendorMappingsAsync(context.Caller().TenantId, context.CancellationToken)).Select(ToMessage));
        return response;
    }

    [Authorize(Policy = AccessPolicies.Admin)]
    public override async Task<VendorMapping> SetVendorMapping(SetVendorMappingRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var vendorId = RequestFields.ParseId(request.VendorId, "vendor_id");
        if (!await mapping.VendorExistsAsync(caller.TenantId, vendorId, context.CancellationToken))
        {
            throw DomainException.WithReason(ErrorKind.NotFound, "There is no such vendor.", "VENDOR_NOT_FOUND", ErrorDomain);
        }

        if (string.IsNullOrWhiteSpace(request.QboVendorId))
        {
            throw DomainException.InvalidArgument("Choose the QuickBooks vendor.", new FieldViolation("qbo_vendor_id", "must name a vendor of the connected company"));
        }

        IReadOnlyList<Guid> waiting;
        try
        {
            (_, waiting) = await mapping.SetVendorMappingAsync(
                caller.TenantId, vendorId, request.QboVendorId.Trim(), NullIfBlank(request.ExpenseAccountId), NullIfBlank(request.ItemId),
                caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        }
        catch (QuickBooksNotConnectedException exception)
        {
            throw NotConnected(exception);
        }
        catch (ArgumentException exception)
        {
            var field = exception.Message.Contains(" item ", StringComparison.Ordinal) ? "item_id"
                : exception.Message.Contains(" account ", StringComparison.Ordinal) ? "expense_account_id"
                : exception.Message.StartsWith("There is no vendor", StringComparison.Ordinal) ? "vendor_id" : "qbo_vendor_id";
            throw DomainException.InvalidArgument(exception.Message, new FieldViolation(field, "must be one of the connected company's"));
        }

        if (waiting.Count > 0)
        {
            // The invoices that waited for this mapping go now rather than at the next change-capture run.
            await exporter.ExportAsync(caller.TenantId, waiting, context.CancellationToken);
        }

        return (await mapping.VendorMappingsAsync(caller.TenantId, context.CancellationToken)).Where(m => m.VendorId == vendorId).Select(ToMessage).Single();
    }

    [Authorize(Policy = AccessPolicies.Reviewer)]
    public override async Task<Export> RetryExport(RetryExportRequest request, ServerCallContext context)
    {
        var caller = context.Caller();
        var invoiceId = RequestFields.ParseId(request.InvoiceId, "invoice_id");
        if ((await ExportsAsync(caller.TenantId, "", invoiceId, 1, context.CancellationToken)).Count == 0)
        {
            throw DomainException.WithReason(ErrorKind.NotFound, "The invoice has not been exported to QuickBooks.", "EXPORT_NOT_FOUND", ErrorDomain);
        }

        try
        {
            await exporter.RetryAsync(caller.TenantId, invoiceId, caller.UserId.ToString(), context.RequestId(), context.CancellationToken);
        }
        catch (QuickBooksNotConnectedException exception)
        {
            throw NotConnected(exception);
        }

        return (await ExportsAsync(caller.TenantId, "", invoiceId, 1, context.CancellationToken)).Single();
    }

    private static string? NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static Choice ToChoice(QuickBooksChoice choice) => new() { Id = choice.Id, Name = choice.Name, Currency = choice.Currency ?? "" };

    private static VendorMapping ToMessage(QuickBooksVendorMapping vendor) => new()
    {
        VendorId = vendor.VendorId.ToString(),
        VendorCode = vendor.VendorCode,
        VendorName = vendor.VendorName,
        Currency = vendor.Currency ?? "",
        QboVendorId = vendor.Mapping?.QboVendorId ?? "",
        QboVendorName = vendor.Mapping?.QboVendorName ?? "",
        QboVendorCurrency = vendor.Mapping?.QboVendorCurrency ?? "",
        ExpenseAccountId = vendor.Mapping?.ExpenseAccountId ?? "",
        ItemId = vendor.Mapping?.ItemId ?? "",
        Source = vendor.Mapping?.Source ?? "",
        UpdatedAt = vendor.Mapping is { } m ? Timestamp.FromDateTimeOffset(m.UpdatedAt) : null,
    };

    private static DomainException NotConnected(QuickBooksNotConnectedException exception) =>
        DomainException.WithReason(ErrorKind.FailedPrecondition, exception.Message, "QUICKBOOKS_NOT_CONNECTED", ErrorDomain);

    private async Task<Connection> ConnectionAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await connections.FindAsync(tenantId, cancellationToken);
        if (row is null)
        {
            return new Connection { Status = "none" };
        }

        var counts = await exportCounts.ByStateAsync(tenantId, cancellationToken);
        return new Connection
        {
            Status = row.Status,
            RealmId = row.RealmId,
            CompanyName = row.CompanyName ?? "",
            DefaultExpenseAccountId = row.DefaultExpenseAccountId ?? "",
            DefaultExpenseAccountName = row.DefaultExpenseAccountName ?? "",
            DefaultItemId = row.DefaultItemId ?? "",
            DefaultItemName = row.DefaultItemName ?? "",
            DefaultTaxCodeId = row.DefaultTaxCodeId ?? "",
            DefaultTaxCodeName = row.DefaultTaxCodeName ?? "",
            CreateMissingVendors = row.CreateMissingVendors,
            LastError = row.LastError ?? "",
            ConnectedAt = Timestamp.FromDateTimeOffset(row.ConnectedAt),
            ChangesCheckedAt = row.ChangesCheckedAt is { } checkedAt ? Timestamp.FromDateTimeOffset(checkedAt) : null,
            FailedCount = counts.GetValueOrDefault(QuickBooksExportState.Failed),
            DiffersCount = counts.GetValueOrDefault(QuickBooksExportState.Differs),
            WaitingCount = counts.GetValueOrDefault(QuickBooksExportState.Waiting),
            ExportedCount = counts.GetValueOrDefault(QuickBooksExportState.Exported),
        };
    }

    private async Task<List<Export>> ExportsAsync(Guid tenantId, string state, Guid? invoiceId, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        var query = from export in unitOfWork.Db.GetTable<QuickBooksExportRow>()
                    join invoice in unitOfWork.Db.GetTable<InvoiceNumberRow>() on export.InvoiceId equals invoice.Id
                    where (state == "" || export.State == state) && (invoiceId == null || export.InvoiceId == invoiceId)
                    orderby export.UpdatedAt descending, export.InvoiceId
                    select new { export, invoice.InvoiceNumber };
        var rows = await query.Take(pageSize).ToListAsync(cancellationToken);
        var appBase = options.Value.AppBaseUrl;
        return rows.Select(row => new Export
        {
            InvoiceId = row.export.InvoiceId.ToString(),
            InvoiceNumber = row.InvoiceNumber,
            Kind = row.export.Kind,
            State = row.export.State,
            QboId = row.export.QboId ?? "",
            Reason = row.export.Reason ?? "",
            FaultCode = row.export.FaultCode ?? "",
            Attempt = row.export.Attempt,
            Link = row.export.QboId is null ? "" : $"{appBase}/{(row.export.Kind == "vendor_credit" ? "vendorcredit" : "bill")}?txnId={row.export.QboId}",
            ExportedAt = row.export.ExportedAt is { } exportedAt ? Timestamp.FromDateTimeOffset(exportedAt) : null,
            UpdatedAt = Timestamp.FromDateTimeOffset(row.export.UpdatedAt),
        }).ToList();
    }

    [Table("invoices")]
    private sealed class InvoiceNumberRow
    {
        [Column("id")] public Guid Id { get; init; }

        [Column("invoice_number")] public string InvoiceNumber { get; init; } = "";
    }
}
