using Microsoft.Extensions.Options;

namespace Invisible.Platform.Dapr;

/// <summary>
/// Refuses to start dapr mode without both API tokens, or with the development values docker-compose.yml falls back to:
/// without <c>DAPR_API_TOKEN</c> anything that reaches the sidecar's port can use every building block, and without
/// <c>APP_API_TOKEN</c> anything that reaches the app can inject events.
/// </summary>
public sealed class DaprTokenValidation : IValidateOptions<DaprOptions>
{
    /// <summary>Every development value in this repository (docker-compose.yml's defaults, components/secrets.json) starts with it.</summary>
    public const string DevelopmentValuePrefix = "dev-";

    public ValidateOptionsResult Validate(string? name, DaprOptions options)
    {
        var problems = new List<string>();
        Check("DAPR_API_TOKEN", options.ApiToken, "the token this app sends to its sidecar", problems);
        Check("APP_API_TOKEN", options.AppApiToken, "the token the sidecar sends to this app", problems);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void Check(string variable, string? value, string meaning, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{variable} ({meaning}) is not set; dapr mode requires it. Generate one, e.g. `openssl rand -hex 32`, and give the same value to the sidecar.");
        }
        else if (value.StartsWith(DevelopmentValuePrefix, StringComparison.Ordinal))
        {
            problems.Add($"{variable} ({meaning}) is a development value ('{DevelopmentValuePrefix}…'); set a random one.");
        }
    }
}
