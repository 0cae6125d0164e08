using System.CommandLine;
using Invisible.Cli.Commands;
using Invisible.Rpc;
using Invisible.Rpc.Client;

namespace Invisible.Cli.Remote;

/// <summary>
/// Remote use of <c>import</c>, <c>reconcile</c> and <c>export</c>: with <c>--server URL</c> (or <c>INVISIBLE_SERVER</c>) the
/// verb calls the server's RPCs with an API key (<c>--api-key</c> or <c>INVISIBLE_API_KEY</c>, so the key need not appear on
/// the command line or in the shell history) instead of working on the local data directory. The key decides the tenant.
/// </summary>
internal static class RemoteServer
{
    public const string ServerVariable = "INVISIBLE_SERVER";
    public const string ApiKeyVariable = "INVISIBLE_API_KEY";

    /// <summary>The server refused the call (credentials, role, validation) or could not be reached.</summary>
    public const int CallFailed = 3;

    private const int UsageError = 2;

    /// <summary>
    /// Runs <paramref name="remote"/> against the server when one is named, returning its exit code; null when the verb is to
    /// run locally. Usage errors (no key, bad URL) and failed calls are reported on standard error with their exit codes.
    /// </summary>
    public static async Task<int?> RunIfRequestedAsync(ParseResult parse, Func<RpcClient, Task<int>> remote)
    {
        var server = parse.GetValue(CommonOptions.Server) ?? NonEmpty(Environment.GetEnvironmentVariable(ServerVariable));
        var apiKey = parse.GetValue(CommonOptions.ApiKey) ?? NonEmpty(Environment.GetEnvironmentVariable(ApiKeyVariable));
        if (server is null)
        {
            if (parse.GetValue(CommonOptions.ApiKey) is not null)
            {
                await Console.Error.WriteLineAsync($"--api-key is for remote use: name the server with --server URL or {ServerVariable}.");
                return UsageError;
            }

            return null;
        }

        if (!Uri.TryCreate(server, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            await Console.Error.WriteLineAsync($"--server '{server}' is not an http:// or https:// URL, e.g. https://invisible.example.com or http://localhost:8080.");
            return UsageError;
        }

        if (apiKey is null)
        {
            await Console.Error.WriteLineAsync(
                $"Remote use needs an API key: set {ApiKeyVariable} (or pass --api-key). An administrator creates one in the web app " +
                "or with `invisible api-key create --tenant SLUG --name NAME --role clerk` on the server.");
            return UsageError;
        }

        if (parse.GetResult(CommonOptions.Tenant) is { Implicit: false })
        {
            await Console.Error.WriteLineAsync("Note: --tenant is ignored with --server; the API key's tenant is used.");
        }

        using var client = new RpcClient(new RpcClientOptions
        {
            Address = address,
            Protocol = RpcClientProtocol.GrpcWeb,
            CompressRequests = true,
            Headers = new Dictionary<string, string> { ["x-api-key"] = apiKey },
            UserAgent = "invisible-cli",
        });
        try
        {
            return await remote(client);
        }
        catch (RpcException exception)
        {
            await Console.Error.WriteLineAsync(Describe(exception));
            return CallFailed;
        }
    }

    /// <summary>The status, the server's message and any field violations, for a person at a terminal.</summary>
    public static string Describe(RpcException exception)
    {
        var reason = exception.ErrorInfo is { } info ? $" ({info.Reason})" : string.Empty;
        var violations = exception.BadRequest?.FieldViolations.Select(violation => $"{Environment.NewLine}  {violation.Field}: {violation.Description}") ?? [];
        var hint = exception.StatusCode switch
        {
            StatusCode.Unauthenticated => $"{Environment.NewLine}Check the API key ({ApiKeyVariable}): it may be revoked or expired.",
            StatusCode.PermissionDenied => $"{Environment.NewLine}The API key's role may not do this; imports and reconcile need a clerk or admin key.",
            StatusCode.Unavailable => $"{Environment.NewLine}Check the server address ({ServerVariable}) and that the server is running.",
            _ => string.Empty,
        };
        return $"The server refused: {exception.StatusCode}{reason}: {exception.Message}{string.Concat(violations)}{hint}";
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
