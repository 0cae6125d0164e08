using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Invisible.Data.Tenancy;
using Invisible.Platform;
using Invisible.Platform.Events;
using Invisible.Server.Exceptions;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Microsoft.Extensions.Options;

namespace Invisible.Server.QuickBooks;

/// <summary>
/// Exports by itself, worker side: every decision and reviewer action announces the invoices it changed
/// (<see cref="ExceptionsChanged"/>); those now matched or approved are exported when the tenant has connected QuickBooks.
/// The calls to QuickBooks happen outside the delivery's transaction and are idempotent by requestid, so a redelivered
/// event, or one handled while the CLI exports, never makes a second Bill. Throttled or unanswered exports wait for the
/// next run (<see cref="QuickBooksChangeCapture"/> runs them).
/// </summary>
public sealed class ExportAfterDecision(QuickBooksConnections connections, QuickBooksExporter exporter, ILogger<ExportAfterDecision> logger)
    : IIntegrationEventHandler<ExceptionsChanged>
{
    public const string Consumer = "quickbooks.export-after-decision";

    public async Task HandleAsync(ExceptionsChanged integrationEvent, EventHandlingContext context, CancellationToken cancellationToken)
    {
        var connection = await connections.FindAsync(integrationEvent.TenantId, cancellationToken);
        if (connection?.Status != QuickBooksConnectionStatus.Connected)
        {
            return;
        }

        try
        {
            var summary = await exporter.ExportAsync(
                integrationEvent.TenantId, integrationEvent.InvoiceIds.Count == 0 ? null : integrationEvent.InvoiceIds, cancellationToken);
            if (summary.Created + summary.Failed + summary.Differs > 0)
            {
                logger.LogInformation(
                    "QuickBooks export for tenant {TenantId} after {Cause}: {Created} created, {Waiting} waiting, {Failed} failed, {Differs} differ",
                    integrationEvent.TenantId, integrationEvent.Cause, summary.Created, summary.Waiting, summary.Failed, summary.Differs);
            }
        }
        catch (QuickBooksNotConnectedException exception)
        {
            logger.LogWarning("QuickBooks export for tenant {TenantId} skipped: {Reason}", integrationEvent.TenantId, exception.Message);
        }
    }
}

/// <summary>
/// The safety net of the webhook and of the automatic export: every interval, for each connected company, asks QuickBooks
/// which Bills and VendorCredits changed since the last time (change data capture) and compares ours, then exports what
/// still waits (throttled, unanswered, or vendors mapped since).
/// </summary>
public sealed class QuickBooksChangeCapture(
    QuickBooksConnections connections, QuickBooksExporter exporter, QuickBooksApi api, TenantDatabase database,
    IOptions<QuickBooksOptions> options, TimeProvider time, ILogger<QuickBooksChangeCapture> logger)
    : PeriodicBackgroundWork(options.Value.ChangeCaptureInterval, time, logger, "QuickBooks change capture")
{
    private static readonly string[] Entities = [QuickBooksEntities.Bill, QuickBooksEntities.VendorCredit];

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        foreach (var tenantId in await connections.ConnectedTenantsAsync(cancellationToken))
        {
            try
            {
                await CaptureAsync(tenantId, cancellationToken);
                await exporter.ExportAsync(tenantId, null, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                Logger.LogWarning(exception, "QuickBooks change capture of tenant {TenantId} failed; tried again in the next run", tenantId);
            }
        }
    }

    /// <summary>Compares every Bill and VendorCredit of ours that changed since the watermark; returns how many were ours.</summary>
    public async Task<int> CaptureAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var connection = await connections.FindAsync(tenantId, cancellationToken);
        if (connection?.Status != QuickBooksConnectionStatus.Connected)
        {
            return 0;
        }

        // Overlapping windows: a change at the boundary is compared twice rather than missed.
        var since = (connection.ChangesCheckedAt ?? connection.ConnectedAt) - TimeSpan.FromMinutes(1);
        var startedAt = Time.GetUtcNow();
        var changes = await connections.CallAsync(tenantId, session => api.ChangedSinceAsync(session, Entities, since, cancellationToken), cancellationToken);
        var ours = 0;
        foreach (var change in changes)
        {
            if (await exporter.CompareAsync(tenantId, change.EntityType, change.Id, change.Deleted ? null : change.Entity, cancellationToken))
            {
                ours++;
            }
        }

        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        await unitOfWork.Db.GetTable<QuickBooksConnectionRow>().Set(c => c.ChangesCheckedAt, startedAt).UpdateAsync(cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return ours;
    }
}

/// <summary>
/// <c>POST /webhooks/quickbooks</c>: Intuit's change notifications. The <c>intuit-signature</c> header must be the base64
/// HMAC-SHA256 of the body under the app's verifier token (compared in constant time), else 401 and nothing is read.
/// Each Bill or VendorCredit named is read back and compared; a notification seen before (same entity, operation and
/// time) is skipped, since Intuit delivers at least once.
/// </summary>
public sealed class QuickBooksWebhook(
    QuickBooksCredentials credentials, QuickBooksConnections connections, QuickBooksExporter exporter, QuickBooksApi api, TenantDatabase database,
    ILogger<QuickBooksWebhook> logger)
{
    public const string Path = "/webhooks/quickbooks";
    public const string SignatureHeader = "intuit-signature";
    private const int MaxBodyBytes = 1 << 20;

    public async Task<IResult> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > MaxBodyBytes)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        var body = buffer.ToArray();
        if (!await SignedAsync(body, request.Headers[SignatureHeader].ToString(), cancellationToken))
        {
            logger.LogWarning("A QuickBooks webhook with a missing or wrong intuit-signature was refused");
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        JsonNode? payload;
        try
        {
            payload = JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException)
        {
            return Results.BadRequest();
        }

        foreach (var notification in payload?["eventNotifications"]?.AsArray() ?? [])
        {
            var realmId = notification?["realmId"]?.GetValue<string>();
            var tenantId = realmId is null ? null : await connections.TenantOfRealmAsync(realmId, cancellationToken);
            if (tenantId is null)
            {
                continue;
            }

            foreach (var entity in notification?["dataChangeEvent"]?["entities"]?.AsArray() ?? [])
            {
                var name = entity?["name"]?.GetValue<string>();
                var id = entity?["id"]?.GetValue<string>();
                if (name is not (QuickBooksEntities.Bill or QuickBooksEntities.VendorCredit) || id is null)
                {
                    continue;
                }

                var operation = entity?["operation"]?.GetValue<string>() ?? "";
                if (!await FirstDeliveryAsync(tenantId.Value, $"{name}:{id}:{operation}:{entity?["lastUpdated"]}", cancellationToken))
                {
                    continue;
                }

                var held = operation == "Delete"
                    ? null
                    : await connections.CallAsync(tenantId.Value, session => api.ReadAsync(session, name, id, cancellationToken), cancellationToken);
                await exporter.CompareAsync(tenantId.Value, name, id, held, cancellationToken);
            }
        }

        return Results.Ok();
    }

    private async Task<bool> SignedAsync(byte[] body, string signature, CancellationToken cancellationToken)
    {
        byte[] given;
        try
        {
            given = Convert.FromBase64String(signature);
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(await credentials.VerifierTokenAsync(cancellationToken)), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private async Task<bool> FirstDeliveryAsync(Guid tenantId, string eventKey, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        // SQL: insert ... on conflict do nothing, whose affected-row count says whether this delivery is the first.
        var inserted = await unitOfWork.Db.ExecuteAsync(
            "insert into quickbooks_webhook_events (tenant_id, event_key) values (@tenantId, @eventKey) on conflict do nothing",
            cancellationToken, new DataParameter("tenantId", tenantId), new DataParameter("eventKey", eventKey));
        await unitOfWork.CommitAsync(cancellationToken);
        return inserted > 0;
    }
}
