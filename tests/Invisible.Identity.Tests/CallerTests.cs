using Invisible.Identity.Tokens;

namespace Invisible.Identity.Tests;

public sealed class CallerTests
{
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid Someone = Guid.NewGuid();

    [Fact]
    public void The_audit_log_names_people_keys_and_the_local_operator_apart()
    {
        var person = new Caller(Tenant, Someone, Roles.Clerk, Guid.NewGuid(), Guid.NewGuid(), MfaSatisfied: true);
        var key = person with { Kind = CallerKind.ApiKey };

        Assert.Equal($"user:{Someone}", person.AuditActor);
        Assert.Equal($"api-key:{Someone}", key.AuditActor);
        Assert.Equal("operator (local command line)", Caller.Operator(Tenant).AuditActor);
    }

    [Fact]
    public void The_local_operator_administers_only_the_tenant_it_names()
    {
        var operatorCaller = Caller.Operator(Tenant);

        Assert.Equal((Tenant, Roles.Admin, CallerKind.Operator), (operatorCaller.TenantId, operatorCaller.Role, operatorCaller.Kind));
    }

    [Theory]
    [InlineData("admin", true)]
    [InlineData("auditor", true)]
    [InlineData("Admin", false)]
    [InlineData("owner", false)]
    [InlineData(null, false)]
    public void Only_the_four_roles_are_known(string? role, bool known)
    {
        Assert.Equal(known, Roles.IsKnown(role));
    }
}
