using Invisible.Data.Access;
using System.Text.RegularExpressions;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Data.Tenancy;

public sealed record TenantRecord(Guid Id, string Slug, string DisplayName, string DefaultCurrency);

/// <summary>A tenant slug is already in use.</summary>
public sealed class DuplicateTenantSlugException(string slug, Exception innerException)
    : Exception($"A tenant with the slug '{slug}' already exists.", innerException)
{
    public string Slug { get; } = slug;
}

/// <summary>
/// Creates and finds tenants before any tenant is set (sign-in, <c>tenant create</c>, the demo tenant).
/// It goes through narrow SECURITY DEFINER functions (<c>tenant_directory_*</c>) on the application role's data source rather
/// than through the owner connection: the running product then needs no owner credentials after migrating, and the only
/// cross-tenant access the application role has is exactly these functions.
/// </summary>
public sealed partial class TenantDirectory(NpgsqlDataSource appDataSource)
{
    /// <summary>Creates a tenant with the default tolerances; throws <see cref="DuplicateTenantSlugException"/> if the slug is taken.</summary>
    public async Task<Guid> CreateAsync(string slug, string displayName, string defaultCurrency, CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        return await CreateAsync(connection, transaction: null, slug, displayName, defaultCurrency, cancellationToken);
    }

    internal static async Task<Guid> CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string slug, string displayName, string defaultCurrency,
        CancellationToken cancellationToken)
    {
        if (slug is null || !SlugPattern().IsMatch(slug))
        {
            throw new ArgumentException(
                $"Tenant slug '{slug}' is invalid: use 2-63 lower-case letters, digits and hyphens, starting with a letter or digit.", nameof(slug));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        if (defaultCurrency is null || !CurrencyPattern().IsMatch(defaultCurrency))
        {
            throw new ArgumentException($"Default currency '{defaultCurrency}' is not an ISO 4217 code such as USD.", nameof(defaultCurrency));
        }

        await using var db = ProductData.On(connection, transaction);
        try
        {
            // SQL: tenant_directory_create is a SECURITY DEFINER function (the app role cannot write tenants directly).
            return await db.ExecuteAsync<Guid>(
                "select tenant_directory_create(@slug, @displayName, @defaultCurrency)", new { slug, displayName, defaultCurrency }, cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new DuplicateTenantSlugException(slug, exception);
        }
    }

    public async Task<TenantRecord?> FindBySlugAsync(string slug, CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: tenant_directory_find is a SECURITY DEFINER function that looks across tenants.
        return (await db.QueryToListAsync<TenantRecord>(
            "select id as Id, slug as Slug, display_name as DisplayName, default_currency as DefaultCurrency from tenant_directory_find(@slug)", new { slug }, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<TenantRecord>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await appDataSource.OpenConnectionAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: tenant_directory_list is a SECURITY DEFINER function that looks across tenants.
        return (await db.QueryToListAsync<TenantRecord>(
            "select id as Id, slug as Slug, display_name as DisplayName, default_currency as DefaultCurrency from tenant_directory_list()", cancellationToken)).ToList();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,62}$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();
}
