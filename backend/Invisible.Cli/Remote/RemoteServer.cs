using System.CommandLine;
using System.Net;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Invisible.Cli.Commands;
using Invisible.Contracts.Imports.V1;
using Invisible.Contracts.Matching.V1;

namespace Invisible.Cli.Remote;

/// <summary>The generated clients of one server, and its address for the messages that name it.</summary>
internal sealed record RemoteClients(Uri Address, ImportService.ImportServiceClient Imports, MatchingService.MatchingServiceClient Matching);

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
    private const string UserAgent = "invisible-cli";

    // Exports arrive as one message; the server's own send limit decides, this only keeps a broken server from exhausting memory.
    private const int MaxReceiveMessageSize = 64 * 1024 * 1024;

    /// <summary>
    /// Runs <paramref name="remote"/> against the server when one is named, returning its exit code; null when the verb is to
    /// run locally. Usage errors (no key, bad URL) and failed calls are reported on standard error with their exit codes.
    /// </summary>
    public static async Task<int?> RunIfRequestedAsync(ParseResult parse, Func<RemoteClients, Task<int>> remote)
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

        using var channel = OpenChannel(address);
        var calls = channel.Intercept(metadata =>
        {
            metadata.Add("x-api-key", apiKey);

            // Uploads are CSV, which gzip shrinks several times over; the server accepts gzip requests.
            metadata.Add("grpc-internal-encoding-request", "gzip");
            return metadata;
        });
        try
        {
            return await remote(new RemoteClients(address, new ImportService.ImportServiceClient(calls), new MatchingService.MatchingServiceClient(calls)));
        }
        catch (RpcException exception)
        {
            await Console.Error.WriteLineAsync(Describe(exception, address));
            return CallFailed;
        }
    }

    /// <summary>
    /// The status, the server's message and any field violations, for a person at a terminal; a server that could not be
    /// reached at all is one line naming the address and the network's reason.
    /// </summary>
    public static string Describe(RpcException exception, Uri address)
    {
        // The client sets a debug exception only for failures of its own (no connection, no HTTP answer), never for a status the server sent.
        if (exception is { StatusCode: StatusCode.Unavailable, Status.DebugException: { } failure })
        {
            return $"Cannot reach the server at {address} ({exception.StatusCode}: {OneLine(Innermost(failure).Message)}): " +
                   $"check the server address ({ServerVariable}) and that the server is running.";
        }

        var details = exception.GetRpcStatus();
        var reason = details?.GetDetail<ErrorInfo>() is { } info ? $" ({info.Reason})" : string.Empty;
        var violations = details?.GetDetail<BadRequest>()?.FieldViolations.Select(violation => $"{Environment.NewLine}  {violation.Field}: {violation.Description}") ?? [];
        var hint = exception.StatusCode switch
        {
            StatusCode.Unauthenticated => $"{Environment.NewLine}Check the API key ({ApiKeyVariable}): it may be revoked or expired.",
            StatusCode.PermissionDenied => $"{Environment.NewLine}The API key's role may not do this; imports and reconcile need a clerk or admin key.",
            StatusCode.Unavailable => $"{Environment.NewLine}Check the server address ({ServerVariable}) and that the server is running.",
            _ => string.Empty,
        };

        // Status.Detail, not Message: the message also carries the client's debug exception, which says nothing more to a person.
        return $"The server refused: {exception.StatusCode}{reason}: {OneLine(exception.Status.Detail)}{string.Concat(violations)}{hint}";
    }

    /// <summary>gRPC-Web over the server's main HTTP port: HTTP/1.1 in cleartext, HTTP/2 where TLS negotiates it, through any proxy.</summary>
    private static GrpcChannel OpenChannel(Uri address)
    {
        var https = address.Scheme == Uri.UriSchemeHttps;
        var transport = new UserAgentHandler(new SocketsHttpHandler { EnableMultipleHttp2Connections = true });
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, transport),
            HttpVersion = https ? HttpVersion.Version20 : HttpVersion.Version11,
            HttpVersionPolicy = https ? HttpVersionPolicy.RequestVersionOrLower : HttpVersionPolicy.RequestVersionExact,
            MaxReceiveMessageSize = MaxReceiveMessageSize,
            DisposeHttpClient = true,
        });
    }

    private static Exception Innermost(Exception exception) => exception.InnerException is { } inner ? Innermost(inner) : exception;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Names the CLI to the server (its logs, its rate limits) instead of the library's default user agent.</summary>
    private sealed class UserAgentHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.UserAgent.Clear();
            request.Headers.TryAddWithoutValidation("user-agent", UserAgent);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
