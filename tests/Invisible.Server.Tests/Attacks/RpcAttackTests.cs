using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Invisible.Contracts.Auth.V1;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Roles = Invisible.Identity.Roles;

namespace Invisible.Server.Tests.Attacks;

/// <summary>
/// The attack suite over real h2c gRPC, walking every RPC of the product's service descriptors
/// (<see cref="AccessMatrixTests.AllRpcs"/>), so a new RPC is attacked without anyone adding it here. No credentials and
/// another tenant's identifiers are in <see cref="AccessMatrixTests"/>; TOTP replay, refresh-token reuse and sign-in
/// brute force in <see cref="SignInTests"/> and <see cref="SessionTests"/>. Each test collects every failure before asserting.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class RpcAttackTests(AccountsServer server)
{
    private static readonly TimeSpan StreamDeadline = TimeSpan.FromMilliseconds(500);

    /// <summary>What no attack may ever get back: a server fault, or one that says nothing about what went wrong.</summary>
    private static readonly StatusCode[] ServerFaults = [StatusCode.Internal, StatusCode.Unknown, StatusCode.DataLoss];

    private static TimeSpan DeadlineOf(MethodDescriptor method) => method.IsServerStreaming ? StreamDeadline : TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_RPC_refuses_every_kind_of_forged_token_as_unauthenticated()
    {
        var tenant = await server.NewTenantAsync();
        var genuine = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var forgeries = await new ForgedTokens(server.Server.Services, server.Clock).RefusedVariantsAsync(genuine);
        var declared = await DeclaredAccess.OfServerAsync(server.Server.Services);
        var problems = new List<string>();

        foreach (var method in AccessMatrixTests.AllRpcs.Where(method => declared.GetValueOrDefault(method.FullName) is { Anonymous: false }))
        {
            foreach (var (kind, token) in forgeries)
            {
                var reply = await tenant.CallAsync(method, AttackMessages.Empty(method), token, deadline: DeadlineOf(method));
                if (reply.Status != StatusCode.Unauthenticated)
                {
                    problems.Add($"{method.FullName} with a token {kind}: {reply}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task A_clerks_token_re_signed_claiming_admin_is_refused_every_RPC_a_clerk_may_not_call()
    {
        var tenant = await server.NewTenantAsync();
        var clerk = await tenant.AddUserAsync(Roles.Clerk);
        var raised = await new ForgedTokens(server.Server.Services, server.Clock).RaisedRoleAsync((await tenant.FullSessionAsync(clerk)).AccessToken);
        var declared = await DeclaredAccess.OfServerAsync(server.Server.Services);
        var problems = new List<string>();

        var adminOnly = AccessMatrixTests.AllRpcs
            .Where(method => declared.GetValueOrDefault(method.FullName) is { Anonymous: false, SessionOnly: false } policy && !policy.Roles.Contains(Roles.Clerk))
            .ToList();
        foreach (var method in adminOnly)
        {
            var reply = await tenant.CallAsync(method, AttackMessages.Empty(method), raised, deadline: DeadlineOf(method));
            if ((reply.Status, reply.Reason) != (StatusCode.PermissionDenied, "ROLE_NOT_PERMITTED"))
            {
                problems.Add($"{method.FullName} with the clerk's token claiming admin: {reply}");
            }
        }

        Assert.NotEmpty(adminOnly);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// As an administrator (the widest access), every RPC gets every payload in every text field: each is answered with a
    /// status of its own (INVALID_ARGUMENT, NOT_FOUND, OK…), never a server fault, and no reply carries the other tenant's
    /// rows, which would be found by the payloads that widen a query.
    /// </summary>
    [Fact]
    public async Task SQL_and_formula_payloads_in_every_text_field_of_every_RPC_get_a_client_status_and_never_another_tenants_data()
    {
        const string OtherVendor = "OTHER-TENANT-VENDOR-7731";
        const string OtherVendorName = "Supplier Of The Other Tenant";
        var other = await QueueTenant.CreateAsync(server, $"vendor_code,name\n{OtherVendor},{OtherVendorName}\n");
        var tenant = await server.NewTenantAsync();
        var problems = new List<string>();

        foreach (var payload in AttackMessages.Payloads)
        {
            // A fresh administrator per payload: the MFA calls below count as failed guesses against their account.
            var admin = await tenant.AddUserAsync(Roles.Admin);
            string? token = null;
            foreach (var method in AccessMatrixTests.AllRpcs)
            {
                token ??= (await tenant.FullSessionAsync(admin)).AccessToken;
                var reply = await tenant.CallAsync(method, AttackMessages.Filled(method, payload), token, deadline: DeadlineOf(method));
                var shown = Shorten(payload);
                if (ServerFaults.Contains(reply.Status))
                {
                    problems.Add($"{method.FullName} with {shown}: {reply}");
                }

                if (reply.Messages.Select(message => message.ToString() ?? "").Any(text =>
                        text.Contains(OtherVendor, StringComparison.OrdinalIgnoreCase) || text.Contains(OtherVendorName, StringComparison.OrdinalIgnoreCase)))
                {
                    problems.Add($"{method.FullName} with {shown} answered with the other tenant's vendor");
                }

                if (method.Name is "SignOut" or "SignOutEverywhere" || (method.Name == "ChangePassword" && reply.Status == StatusCode.OK))
                {
                    token = null;
                }
            }
        }

        var stillThere = await other.QuerySingleAsync<int>("select count(*)::int from vendors");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(1, stillThere);
    }

    [Fact]
    public async Task A_malformed_message_to_any_RPC_is_a_client_error_and_an_oversize_one_is_resource_exhausted()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        using var raw = new RawGrpc(new Uri(server.Server.Endpoints.Grpc));
        var oversize = AttackMessages.Oversize();
        var problems = new List<string>();

        foreach (var method in AccessMatrixTests.AllRpcs)
        {
            var malformed = await raw.CallAsync(method, AttackMessages.Malformed, token, DeadlineOf(method));
            var tooBig = await raw.CallAsync(method, oversize, token, DeadlineOf(method));
            if (ServerFaults.Contains(malformed.Status) || malformed.Status == StatusCode.OK)
            {
                problems.Add($"{method.FullName} with a malformed message: {malformed}");
            }

            if (tooBig.Status != StatusCode.ResourceExhausted)
            {
                problems.Add($"{method.FullName} with a message over the size limit: {tooBig}");
            }

            if (method.Name is "SignOut" or "SignOutEverywhere" && (malformed.Status == StatusCode.OK || tooBig.Status == StatusCode.OK))
            {
                token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static string Shorten(string payload) => payload.Length > 40 ? $"a {payload.Length}-character payload" : $"'{payload}'";
}
