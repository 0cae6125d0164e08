using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Auth.V1;
using Invisible.Identity.Tokens;
using Invisible.Rpc.Hosting;
using Invisible.Server.Rpc;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Invisible.Server.Accounts;

public static class AccountsRegistration
{
    /// <summary>
    /// Accounts, sessions and tenant administration, and their enforcement on every RPC: the caller authenticator and the
    /// access-policy interceptor (policies read from the <see cref="RpcAccessAttribute"/>s of this assembly's handlers).
    /// </summary>
    public static RpcBuilder AddAccounts(this RpcBuilder rpc)
    {
        var services = rpc.Services;
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.Section);
        services.AddOptions<AccessTokenOptions>().BindConfiguration(AccessTokenOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AccessTokenService>();
        services.AddSingleton<MfaSecretVault>();
        services.AddSingleton<MfaSecretResealing>();
        services.AddHostedService(provider => provider.GetRequiredService<MfaSecretResealing>());
        services.AddSingleton<SignInThrottles>();
        services.AddSingleton<AuthRateLimiter>();
        services.AddSingleton(_ => RpcAccessPolicies.FromHandlers());
        services.AddSingleton<CallerVerification>();
        services.AddScoped<Sessions>();
        services.AddScoped<Authentication>();
        services.AddScoped<MultiFactor>();
        services.AddScoped<TenantAdministration>();
        return rpc
            .AddAuthenticator<CallerAuthenticator>()
            .AddInterceptor<AccessPolicyInterceptor>()
            .AddService<AuthServiceHandler>(AuthReflection.Descriptor.Services[0])
            .AddService<AdminServiceHandler>(AdminReflection.Descriptor.Services[0]);
    }
}
