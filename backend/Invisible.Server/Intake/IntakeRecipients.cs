using Invisible.Data.Access;
using Invisible.Data.Tenancy;
using LinqToDB;
using LinqToDB.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Invisible.Server.Intake;

/// <summary>
/// Which tenant an address receives for: <c>&lt;slug&gt;@Email:Intake:Domain</c>, or an alias an admin added. Asked at
/// RCPT TO, before any tenant is set, through the directory functions the application role may call.
/// </summary>
public sealed class IntakeRecipients(NpgsqlDataSource appDataSource, TenantDirectory directory, IOptions<EmailIntakeOptions> options)
{
    public string Domain => options.Value.Domain.Trim().ToLowerInvariant();

    /// <summary>The tenant's own address, which needs no alias.</summary>
    public string AddressOf(string slug) => $"{slug}@{Domain}";

    public async Task<Guid?> FindTenantAsync(string address, CancellationToken cancellationToken)
    {
        var normalized = address.Trim().ToLowerInvariant();
        var at = normalized.LastIndexOf('@');
        if (at <= 0)
        {
            return null;
        }

        if (normalized[(at + 1)..] == Domain && await directory.FindBySlugAsync(normalized[..at], cancellationToken) is { } tenant)
        {
            return tenant.Id;
        }

        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        using var db = ProductData.On(connection);
        // A SECURITY DEFINER function, so raw SQL: the only cross-tenant question the listener may ask.
        var found = await db.QueryToListAsync<Guid?>("select intake_find_tenant(@address)", cancellationToken, new DataParameter("address", normalized));
        return found.FirstOrDefault();
    }
}
