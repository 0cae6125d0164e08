using Invisible.Data.Access;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Data.Provisioning;

/// <summary>
/// Refuses an application role that could get round row-level security: a superuser or a role with BYPASSRLS ignores
/// every policy, and a table's owner is exempt from its policies unless forced and may drop or alter them. The embedded
/// cluster creates the role itself; a configured external database is checked at start-up, as the operator made the role.
/// </summary>
public static class ApplicationRoleCheck
{
    /// <exception cref="InvalidOperationException">The role is unfit; the message names every problem and the fix.</exception>
    public static async Task EnsureSafeAsync(string appConnectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(appConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var db = ProductData.On(connection);
        // SQL: reads the pg_roles and pg_class catalogs, which have no mapping.
        var role = (await db.QueryToListAsync<RoleFacts>(
            """
            select r.rolname as Name, r.rolsuper as Superuser, r.rolbypassrls as BypassRls,
                   (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where c.relowner = r.oid and c.relkind in ('r', 'p')
                      and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%') as OwnedTables
            from pg_roles r where r.rolname = current_user
            """, cancellationToken)).Single();
        var problems = new List<string>();
        if (role.Superuser)
        {
            problems.Add("is a superuser");
        }

        if (role.BypassRls)
        {
            problems.Add("has BYPASSRLS");
        }

        if (role.OwnedTables > 0)
        {
            problems.Add($"owns {role.OwnedTables} table(s)");
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"The application role '{role.Name}' (ConnectionStrings:PostgresApp) {string.Join(", ", problems)}, so row-level security " +
                "would not separate tenants. Use a role that owns nothing, created with CREATE ROLE ... LOGIN NOSUPERUSER NOBYPASSRLS.");
        }
    }

    private sealed record RoleFacts(string Name, bool Superuser, bool BypassRls, long OwnedTables);
}
