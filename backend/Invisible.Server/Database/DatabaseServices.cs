using Invisible.Data.Health;
using Invisible.Data.Migrations;
using Invisible.Data.Tenancy;
using Npgsql;

namespace Invisible.Server.Database;

public static class DatabaseServices
{
    /// <summary>Everything the request path uses connects as the application role; only migrations ever use the owner.</summary>
    public static IServiceCollection AddInvisibleDatabase(this IServiceCollection services, DatabaseRuntime database)
    {
        services.AddSingleton(database);
        services.AddSingleton<DatabaseSupervision>();
        services.AddOptions<DatabaseSupervisionOptions>()
            .BindConfiguration(DatabaseSupervisionOptions.Section)
            .ValidateDataAnnotations()
            .Validate(supervision => supervision.MaxBackoff >= supervision.InitialBackoff, "Database:Supervision:MaxBackoff must not be shorter than InitialBackoff")
            .ValidateOnStart();
        // Only a host runs it (command-line verbs have no host), and it does nothing unless this process owns the embedded cluster.
        services.AddHostedService<EmbeddedDatabaseSupervisor>();
        services.AddSingleton(_ => NpgsqlDataSource.Create(database.ConnectionStrings.AppConnectionString));
        services.AddSingleton<TenantDatabase>();
        services.AddSingleton<TenantDirectory>();
        services.AddSingleton<CrossTenantLookup>();
        services.AddSingleton(provider => new DatabaseHealth(
            database.ConnectionStrings.AppConnectionString,
            DatabaseMigrator.ForEmbeddedMigrations(provider.GetRequiredService<ILogger<DatabaseMigrator>>())));
        return services;
    }
}
