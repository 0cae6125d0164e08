using LinqToDB.Data;
using Invisible.Contracts.Admin.V1;
using Grpc.Core;

namespace Invisible.Server.Tests.Accounts;

/// <summary>A tenant can never lose its last enabled administrator, whether by a role change, by disabling, or by two at once.</summary>
[Collection(AccountsCollection.Name)]
public sealed class LastAdminTests(AccountsServer server)
{
    [Fact]
    public async Task The_only_administrator_can_be_neither_demoted_nor_disabled()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var adminId = await UserIdAsync(tenant, tenant.Admin.Email);

        var demoted = await tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = adminId, Role = Identity.Roles.Auditor }, token);
        var disabled = await tenant.CallAsync(Rpcs.Admin("DisableUser"), new DisableUserRequest { UserId = adminId }, token);
        var stillAdmin = await tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = adminId, Role = Identity.Roles.Admin }, token);

        Assert.Equal((StatusCode.FailedPrecondition, "LAST_ADMIN"), (demoted.Status, demoted.Reason));
        Assert.Equal((StatusCode.FailedPrecondition, "LAST_ADMIN"), (disabled.Status, disabled.Reason));
        Assert.Equal(StatusCode.OK, stillAdmin.Status);
        Assert.Equal(1, await EnabledAdministratorsAsync(tenant));
    }

    [Fact]
    public async Task With_a_second_administrator_one_may_go_and_a_disabled_administrator_does_not_count()
    {
        var tenant = await server.NewTenantAsync();
        var second = await tenant.AddUserAsync(Identity.Roles.Admin);
        var clerk = await tenant.AddUserAsync(Identity.Roles.Clerk);
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        var (adminId, secondId, clerkId) = (await UserIdAsync(tenant, tenant.Admin.Email), await UserIdAsync(tenant, second.Email), await UserIdAsync(tenant, clerk.Email));

        var clerkDisabled = await tenant.CallAsync(Rpcs.Admin("DisableUser"), new DisableUserRequest { UserId = clerkId }, token);
        var secondDisabled = await tenant.CallAsync(Rpcs.Admin("DisableUser"), new DisableUserRequest { UserId = secondId }, token);
        var selfDemoted = await tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = adminId, Role = Identity.Roles.Clerk }, token);
        var disabledDemoted = await tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = secondId, Role = Identity.Roles.Clerk }, token);

        Assert.Equal((StatusCode.OK, StatusCode.OK), (clerkDisabled.Status, secondDisabled.Status));
        Assert.Equal((StatusCode.FailedPrecondition, "LAST_ADMIN"), (selfDemoted.Status, selfDemoted.Reason));
        Assert.Equal(StatusCode.OK, disabledDemoted.Status);
        Assert.Equal(1, await EnabledAdministratorsAsync(tenant));
    }

    [Fact]
    public async Task Two_administrators_demoting_each_other_at_once_leave_exactly_one()
    {
        var tenant = await server.NewTenantAsync();
        var second = await tenant.AddUserAsync(Identity.Roles.Admin);
        var (firstToken, secondToken) = ((await tenant.FullSessionAsync(tenant.Admin)).AccessToken, (await tenant.FullSessionAsync(second)).AccessToken);
        var (firstId, secondId) = (await UserIdAsync(tenant, tenant.Admin.Email), await UserIdAsync(tenant, second.Email));

        var replies = await Task.WhenAll(
            tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = secondId, Role = Identity.Roles.Clerk }, firstToken),
            tenant.CallAsync(Rpcs.Admin("SetUserRole"), new SetUserRoleRequest { UserId = firstId, Role = Identity.Roles.Clerk }, secondToken));

        // The loser is refused as LAST_ADMIN, or, if it arrives after the winner committed, because its demotion ended its session.
        Assert.Single(replies, reply => reply.Status == StatusCode.OK);
        Assert.Single(replies, reply => reply.Status is StatusCode.FailedPrecondition or StatusCode.Unauthenticated);
        Assert.Equal(1, await EnabledAdministratorsAsync(tenant));
    }

    private static async Task<string> UserIdAsync(TestTenant tenant, string email)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return (await unitOfWork.Db.ExecuteAsync<Guid>(
            "select id from users where email_index = @email", new { email = tenant.EmailIndexOf(email) }, CancellationToken.None)).ToString();
    }

    private static async Task<long> EnabledAdministratorsAsync(TestTenant tenant)
    {
        await using var unitOfWork = await tenant.Database.BeginAsync(tenant.Id, CancellationToken.None);
        return await unitOfWork.Db.ExecuteAsync<long>(
            "select count(*) from users where role = 'admin' and disabled_at is null", CancellationToken.None);
    }
}
