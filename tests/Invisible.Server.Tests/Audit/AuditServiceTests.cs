using Invisible.Testing;
using System.Text.RegularExpressions;
using LinqToDB.Data;
using Google.Protobuf.WellKnownTypes;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Audit.V1;
using Invisible.Identity.Tokens;
using Grpc.Core;
using Invisible.Server.Tests.Accounts;
using Npgsql;

namespace Invisible.Server.Tests.Audit;

/// <summary>The AuditService over real h2c gRPC, on the entries the product itself wrote while the tests acted.</summary>
[Collection(AccountsCollection.Name)]
public sealed class AuditServiceTests(AccountsServer server)
{
    private static Google.Protobuf.Reflection.MethodDescriptor Method(string name) => AuditReflection.Descriptor.Services[0].FindMethodByName(name);

    [Fact]
    public async Task Entries_come_newest_first_in_pages_and_filter_by_action_prefix_entity_actor_and_period()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        for (var i = 0; i < 3; i++)
        {
            await tenant.CallAsync(Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = $"key {i}", Role = Identity.Roles.Clerk }, token);
        }

        var all = await ListAllAsync(tenant, token, new AuditFilter(), pageSize: 2);
        var keys = await ListAllAsync(tenant, token, new AuditFilter { Action = "api_key." }, pageSize: 50);
        var byOperator = await ListAllAsync(tenant, token, new AuditFilter { Actor = Caller.OperatorActor }, pageSize: 50);
        var tenantEntity = await ListAllAsync(tenant, token, new AuditFilter { Entity = "tenant" }, pageSize: 50);
        var future = await ListAllAsync(tenant, token, new AuditFilter { From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)) }, pageSize: 50);
        var past = await ListAllAsync(tenant, token, new AuditFilter { To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)) }, pageSize: 50);

        Assert.Equal(Enumerable.Range(1, all.Count).Reverse().Select(seq => (long)seq), all.Select(entry => entry.Seq));
        Assert.True(all.Count >= 7, $"expected tenant, user, sign-in, MFA and key entries, got {all.Count}");
        Assert.Equal(["api_key.created", "api_key.created", "api_key.created"], keys.Select(entry => entry.Action));
        Assert.Contains("\"name\": \"key 2\"", keys[0].AfterJson, StringComparison.Ordinal);
        Assert.All(all, entry => Assert.Equal(64, entry.HashHex.Length));
        Assert.Equal(["user.created", "tenant.created"], byOperator.Select(entry => entry.Action));
        Assert.Equal(["tenant.created"], tenantEntity.Select(entry => entry.Action));
        Assert.Empty(future);
        Assert.Empty(past);
    }

    [Fact]
    public async Task The_export_is_csv_of_the_filtered_entries_and_is_itself_audited()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;

        var export = (await tenant.CallAsync(Method("ExportAuditLog"), new ExportAuditLogRequest { Filter = new AuditFilter { Entity = "tenant" } }, token))
            .As<ExportAuditLogResponse>();
        var exported = await ListAllAsync(tenant, token, new AuditFilter { Action = "audit.exported" }, pageSize: 10);

        var lines = export.Csv.ToStringUtf8().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1, export.RowCount);
        Assert.Equal("seq,occurred_at,actor,action,entity,entity_id,before,after,request_id,hash", lines[0]);
        Assert.Matches(
            @"^1,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z," + Regex.Escape(Caller.OperatorActor) + @",tenant\.created,tenant," + tenant.Id + @",,""\{.*\}"",,[0-9a-f]{64}$",
            lines[1]);
        Assert.Equal(2, lines.Length);
        var record = Assert.Single(exported);
        Assert.Contains("\"rows\": 1", record.AfterJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verification_passes_on_an_intact_chain_and_names_the_first_entry_changed_behind_the_applications_back()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;

        var intact = (await tenant.CallAsync(Method("VerifyAuditChain"), new VerifyAuditChainRequest(), token)).As<VerifyAuditChainResponse>();
        await using (var superuser = new NpgsqlConnection(server.Server.Database.Cluster!.SuperuserConnectionString("invisible")))
        {
            // An attacker with superuser access: replica mode switches off the append-only triggers.
            await superuser.OpenAsync();
            await using var transaction = await superuser.BeginTransactionAsync();
            await superuser.Linq(transaction).ExecuteAsync("set local session_replication_role = replica", CancellationToken.None);
            await superuser.Linq(transaction).ExecuteAsync("update audit_log set actor = 'someone else' where tenant_id = @id and seq = 2", new { id = tenant.Id }, CancellationToken.None);
            await transaction.CommitAsync();
        }

        var broken = (await tenant.CallAsync(Method("VerifyAuditChain"), new VerifyAuditChainRequest(), token)).As<VerifyAuditChainResponse>();

        Assert.True(intact.Ok);
        Assert.Equal(0, intact.FirstBadSeq);
        Assert.True(intact.EntriesChecked >= 3);
        Assert.False(broken.Ok);
        Assert.Equal(2, broken.FirstBadSeq);
    }

    [Fact]
    public async Task Clerks_and_approvers_may_not_read_the_audit_log_and_bad_requests_are_INVALID_ARGUMENT()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var approver = await tenant.AddUserAsync(Identity.Roles.Approver);
        var auditor = await tenant.AddUserAsync(Identity.Roles.Auditor);
        var auditorToken = (await tenant.FullSessionAsync(auditor)).AccessToken;

        var asClerk = await tenant.CallAsync(Method("ListAuditEntries"), new ListAuditEntriesRequest(), (await tenant.FullSessionAsync(clerk)).AccessToken);
        var asApprover = await tenant.CallAsync(Method("ExportAuditLog"), new ExportAuditLogRequest(), (await tenant.FullSessionAsync(approver)).AccessToken);
        var asAuditor = await tenant.CallAsync(Method("ListAuditEntries"), new ListAuditEntriesRequest(), auditorToken);
        var tooLarge = await tenant.CallAsync(Method("ListAuditEntries"), new ListAuditEntriesRequest { PageSize = 501 }, auditorToken);
        var badToken = await tenant.CallAsync(Method("ListAuditEntries"), new ListAuditEntriesRequest { PageToken = "x" }, auditorToken);
        var backwards = await tenant.CallAsync(Method("ListAuditEntries"), new ListAuditEntriesRequest
        {
            Filter = new AuditFilter { From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)) },
        }, auditorToken);

        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (asClerk.Status, asClerk.Reason));
        Assert.Equal((StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"), (asApprover.Status, asApprover.Reason));
        Assert.Equal(StatusCode.OK, asAuditor.Status);
        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument, StatusCode.InvalidArgument), (tooLarge.Status, badToken.Status, backwards.Status));
    }

    private static async Task<List<AuditEntry>> ListAllAsync(TestTenant tenant, string token, AuditFilter filter, int pageSize)
    {
        var entries = new List<AuditEntry>();
        var pageToken = string.Empty;
        do
        {
            var page = (await tenant.CallAsync(Method("ListAuditEntries"), new ListAuditEntriesRequest { Filter = filter, PageSize = pageSize, PageToken = pageToken }, token))
                .As<ListAuditEntriesResponse>();
            Assert.True(page.Entries.Count <= pageSize);
            entries.AddRange(page.Entries);
            pageToken = page.NextPageToken;
        }
        while (pageToken.Length > 0);

        return entries;
    }
}
