using LinqToDB.Data;
using Invisible.Data.Provisioning;
using Invisible.Testing;
using Npgsql;

namespace Invisible.Data.Tests;

/// <summary>
/// Guards of the schema's security shape, read from the catalog so they also hold for tables and views added later.
/// Each guard is shown to fire on a deliberately broken object (created and rolled back), so none can pass vacuously.
/// </summary>
public sealed class CatalogTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string ViolationsSql =
        $$"""
        -- tenant-owned tables without RLS enabled and forced, or without the tenant_isolation policy for everyone
        select format('table %s: row-level security is not enabled and forced', c.relname)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p')
          and (c.relname = 'tenants' or exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped))
          and not (c.relrowsecurity and c.relforcerowsecurity)
        union all
        select format('table %s: no tenant_isolation policy on app.tenant_id for all commands and roles', c.relname)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p')
          and (c.relname = 'tenants' or exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped))
          and not exists (
              select from pg_policy p
              where p.polrelid = c.oid and p.polname = 'tenant_isolation' and p.polcmd = '*' and p.polpermissive
                and p.polroles = '{0}'
                and pg_get_expr(p.polqual, p.polrelid) like '%app.tenant_id%'
                and pg_get_expr(p.polwithcheck, p.polrelid) like '%app.tenant_id%')
        union all
        -- the application role: no superuser, no BYPASSRLS, owns nothing anywhere in the cluster
        select format('role {{DatabaseProvisioner.AppRole}}: superuser=%s bypassrls=%s', r.rolsuper::text, r.rolbypassrls::text)
        from pg_roles r where r.rolname = '{{DatabaseProvisioner.AppRole}}' and (r.rolsuper or r.rolbypassrls)
        union all
        select format('role {{DatabaseProvisioner.AppRole}} owns %s', pg_describe_object(d.classid, d.objid, d.objsubid))
        from pg_shdepend d
        where d.refclassid = 'pg_authid'::regclass and d.deptype = 'o'
          and d.refobjid = (select oid from pg_roles where rolname = '{{DatabaseProvisioner.AppRole}}')
          and d.dbid in (0, (select oid from pg_database where datname = current_database()))
        union all
        -- views must apply the querying role's RLS (materialized views cannot, so there must be none)
        select format('view %s: not security_invoker', c.relname)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'v'
          and not coalesce(array_to_string(c.reloptions, ',') ~ 'security_invoker=(true|on|1|yes)', false)
        union all
        select format('materialized view %s: bypasses row-level security', c.relname)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'm'
        union all
        -- SECURITY DEFINER functions must pin their search_path
        select format('function %s: SECURITY DEFINER without a fixed search_path', p.proname)
        from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prosecdef
          and not exists (select from unnest(p.proconfig) setting where setting like 'search_path=%')
        """;

    [Fact]
    public async Task The_migrated_schema_has_no_security_violations()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.SuperuserConnectionString);
        await connection.OpenAsync();

        var violations = (await connection.Linq().QueryToListAsync<string>(ViolationsSql, CancellationToken.None)).ToList();

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public async Task A_tenant_table_without_row_level_security_is_reported()
    {
        var violations = await ViolationsAfterAsync("create table sneaky_notes (tenant_id uuid not null, note text)");

        Assert.Contains("table sneaky_notes: row-level security is not enabled and forced", violations);
        Assert.Contains("table sneaky_notes: no tenant_isolation policy on app.tenant_id for all commands and roles", violations);
    }

    [Fact]
    public async Task A_tenant_table_with_rls_enabled_but_not_forced_is_reported()
    {
        var violations = await ViolationsAfterAsync(
            """
            create table half_guarded (tenant_id uuid not null);
            alter table half_guarded enable row level security;
            create policy tenant_isolation on half_guarded using (tenant_id = current_setting('app.tenant_id', true)::uuid)
                with check (tenant_id = current_setting('app.tenant_id', true)::uuid);
            """);

        Assert.Equal(["table half_guarded: row-level security is not enabled and forced"], violations);
    }

    [Fact]
    public async Task A_view_without_security_invoker_is_reported()
    {
        var violations = await ViolationsAfterAsync("create view all_vendors as select * from vendors");

        Assert.Equal(["view all_vendors: not security_invoker"], violations);
    }

    [Fact]
    public async Task A_view_with_security_invoker_is_accepted()
    {
        Assert.Empty(await ViolationsAfterAsync("create view own_vendors with (security_invoker = true) as select * from vendors"));
    }

    [Fact]
    public async Task An_object_owned_by_the_application_role_is_reported()
    {
        var violations = await ViolationsAfterAsync($"alter table vendor_aliases owner to {DatabaseProvisioner.AppRole}");

        Assert.Contains($"role {DatabaseProvisioner.AppRole} owns table vendor_aliases", violations);
    }

    [Fact]
    public async Task An_application_role_with_bypassrls_is_reported()
    {
        var violations = await ViolationsAfterAsync($"alter role {DatabaseProvisioner.AppRole} bypassrls");

        Assert.Equal([$"role {DatabaseProvisioner.AppRole}: superuser=false bypassrls=true"], violations);
    }

    [Fact]
    public async Task A_security_definer_function_without_search_path_is_reported()
    {
        var violations = await ViolationsAfterAsync("create function leaky() returns int language sql security definer as $$ select 1 $$");

        Assert.Equal(["function leaky: SECURITY DEFINER without a fixed search_path"], violations);
    }

    /// <summary>The violations seen after running <paramref name="breakingDdl"/> as superuser, in a transaction that is rolled back.</summary>
    private async Task<List<string>> ViolationsAfterAsync(string breakingDdl)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.SuperuserConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.Linq(transaction).ExecuteAsync(breakingDdl, CancellationToken.None);
        return (await connection.Linq(transaction).QueryToListAsync<string>(ViolationsSql, CancellationToken.None)).ToList();
    }
}
