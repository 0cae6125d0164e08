using Invisible.Data.Access;
using System.Text.RegularExpressions;
using LinqToDB.Data;
using Invisible.Data.Migrations;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Invisible.Data.Provisioning;

/// <summary>
/// Given a superuser connection, makes a database ready for Invisible: the owner and application roles (created, or their
/// passwords and attributes reset), the database itself, its connect grants, and the migrations (run as the owner).
/// Every step is idempotent, so it runs at every start of embedded mode.
/// For an external server without superuser access, skip this class: run <see cref="DatabaseMigrator"/> with
/// <c>ConnectionStrings:Postgres</c> as the owner and use <c>ConnectionStrings:PostgresApp</c> as the application role.
/// </summary>
public sealed partial class DatabaseProvisioner(DatabaseMigrator migrator, ILogger logger)
{
    public const string OwnerRole = "invisible_owner";
    public const string AppRole = "invisible_app";

    // Role attributes are (re)asserted at every run, so a role altered by hand is put back into its safe shape.
    private const string OwnerAttributes = "login nosuperuser nocreatedb nocreaterole nobypassrls noreplication";
    private const string AppAttributes = "login nosuperuser nocreatedb nocreaterole nobypassrls noreplication noinherit";

    private const long ProvisioningLockKey = 0x496E_7650_726F_7631; // "InvProv1"

    /// <summary>Creates (if missing) and migrates <paramref name="databaseName"/>; returns the owner and application connection strings.</summary>
    public Task<DatabaseConnectionStrings> ProvisionAsync(
        string superuserConnectionString, string databaseName, DatabaseRolePasswords passwords, CancellationToken cancellationToken) =>
        ProvisionAsync(superuserConnectionString, databaseName, "template0", passwords, cancellationToken);

    /// <summary>
    /// Like <see cref="ProvisionAsync(string, string, DatabaseRolePasswords, CancellationToken)"/>, but a missing database is
    /// created as a copy of <paramref name="templateDatabase"/> (an already migrated database makes this much faster; tests use it).
    /// The template must have no open connections.
    /// </summary>
    public async Task<DatabaseConnectionStrings> ProvisionAsync(
        string superuserConnectionString, string databaseName, string templateDatabase, DatabaseRolePasswords passwords,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(superuserConnectionString);
        ArgumentNullException.ThrowIfNull(passwords);
        EnsurePlainIdentifier(databaseName, nameof(databaseName));
        EnsurePlainIdentifier(templateDatabase, nameof(templateDatabase));

        var superuser = new NpgsqlConnectionStringBuilder(superuserConnectionString) { Pooling = false };
        await using (var connection = new NpgsqlConnection(superuser.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var db = ProductData.On(connection);
            // Processes provisioning at once (the server and a CLI verb, parallel test classes) would otherwise collide on
            // ALTER ROLE ("tuple concurrently updated") or CREATE DATABASE; the lock ends with the connection.
            // SQL: advisory locks are server functions with no LINQ form.
            await db.ExecuteAsync("select pg_advisory_lock(@key)", new { key = ProvisioningLockKey }, cancellationToken);
            await EnsureRoleAsync(connection, OwnerRole, OwnerAttributes, passwords.Owner, cancellationToken);
            await EnsureRoleAsync(connection, AppRole, AppAttributes, passwords.App, cancellationToken);
            await EnsureDatabaseAsync(connection, databaseName, templateDatabase, cancellationToken);
        }

        var connectionStrings = new DatabaseConnectionStrings(
            ForRole(superuser, databaseName, OwnerRole, passwords.Owner),
            ForRole(superuser, databaseName, AppRole, passwords.App));
        await migrator.MigrateAsync(connectionStrings.OwnerConnectionString, cancellationToken);
        return connectionStrings;
    }

    private static async Task EnsureRoleAsync(
        NpgsqlConnection connection, string role, string attributes, string password, CancellationToken cancellationToken)
    {
        // The password travels as a parameter into a transaction-local setting and is spliced in by format(%L) on the server,
        // so it is never part of a statement text that could end up in a server log.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var db = ProductData.On(transaction);
        // SQL: a transaction-local setting carries the password to the server (set_config).
        await db.ExecuteAsync(
            "select set_config('invisible.provisioning_password', @password, true)", new { password }, cancellationToken);
        // SQL: CREATE/ALTER ROLE in a DO block; DDL has no LINQ form.
        await db.ExecuteAsync(
            $$"""
            do $$
            begin
                if exists (select from pg_roles where rolname = '{{role}}') then
                    execute format('alter role {{role}} with {{attributes}} password %L', current_setting('invisible.provisioning_password'));
                else
                    execute format('create role {{role}} with {{attributes}} password %L', current_setting('invisible.provisioning_password'));
                end if;
            end $$
            """, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task EnsureDatabaseAsync(NpgsqlConnection connection, string databaseName, string templateDatabase, CancellationToken cancellationToken)
    {
        await using var db = ProductData.On(connection);
        // SQL: reads the pg_database catalog, which has no mapping.
        var exists = await db.ExecuteAsync<bool>(
            "select exists (select from pg_database where datname = @databaseName)", new { databaseName }, cancellationToken);
        if (!exists)
        {
            logger.LogInformation("Creating database {Database} from {Template}", databaseName, templateDatabase);
            try
            {
                // SQL: CREATE DATABASE is DDL.
                await db.ExecuteAsync(
                    $"create database \"{databaseName}\" with owner {OwnerRole} template \"{templateDatabase}\" encoding 'UTF8'", cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                // Another process created it between our check and our attempt; the result is the same.
            }
        }

        // Database-level privileges are not copied from a template, so they are set here for every database.
        // SQL: GRANT and REVOKE are DDL.
        await db.ExecuteAsync(
            $"""
            revoke all on database "{databaseName}" from public;
            grant connect, temporary on database "{databaseName}" to {AppRole};
            """, cancellationToken);
    }

    private static string ForRole(NpgsqlConnectionStringBuilder superuser, string databaseName, string role, string password) =>
        new NpgsqlConnectionStringBuilder(superuser.ConnectionString)
        {
            Database = databaseName,
            Username = role,
            Password = password,
            Pooling = true,
            // Below the cluster's max_connections (100, a few reserved) with room for the other role's pool and psql: a burst
            // of requests waits for a connection instead of failing with 53300 "remaining connection slots are reserved".
            MaxPoolSize = 40,
        }.ConnectionString;

    private static void EnsurePlainIdentifier(string name, string parameterName)
    {
        if (name is null || !PlainIdentifier().IsMatch(name))
        {
            throw new ArgumentException(
                $"Database name '{name}' must be 1-63 characters of lower-case letters, digits and underscores, starting with a letter or underscore.",
                parameterName);
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();
}
