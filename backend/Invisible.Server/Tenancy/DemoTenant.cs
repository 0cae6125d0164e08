using System.Text.Json;
using Invisible.Data.Tenancy;
using Invisible.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Invisible.Server.Tenancy;

/// <summary>
/// The <c>demo</c> tenant of a local installation, created on the first <c>up</c>. Its administrator's password is kept in
/// <c>DATA_DIR/demo-login.json</c> (owner-only) so that every <c>up</c> can print the sign-in; it is a demo, not a real account.
/// </summary>
public static class DemoTenant
{
    public const string Slug = "demo";
    public const string AdminEmail = "admin@demo.invisible.local";

    private const string LoginFileName = "demo-login.json";

    public static async Task<TenantAdminLogin> EnsureAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.GetFullPath(services.GetRequiredService<IOptions<ServerOptions>>().Value.DataDirectory);
        var onboarding = ActivatorUtilities.CreateInstance<TenantOnboarding>(services);
        var loginFile = Path.Combine(dataDirectory, LoginFileName);

        var existing = await services.GetRequiredService<TenantDirectory>().FindBySlugAsync(Slug, cancellationToken);
        if (existing is null)
        {
            var created = await onboarding.CreateAsync(Slug, "Demo Company", "USD", AdminEmail, TenantOnboarding.OperatorActor, cancellationToken);
            await SaveAsync(loginFile, created, cancellationToken);
            return created;
        }

        if (File.Exists(loginFile))
        {
            await using var stream = File.OpenRead(loginFile);
            var saved = await JsonSerializer.DeserializeAsync<TenantAdminLogin>(stream, cancellationToken: cancellationToken);
            if (saved is not null)
            {
                return saved;
            }
        }

        var reset = await onboarding.ResetAdminPasswordAsync(existing.Id, Slug, AdminEmail, TenantOnboarding.OperatorActor, cancellationToken);
        await SaveAsync(loginFile, reset, cancellationToken);
        return reset;
    }

    private static async Task SaveAsync(string path, TenantAdminLogin login, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await JsonSerializer.SerializeAsync(stream, login, cancellationToken: cancellationToken);
    }
}
