using Grpc.Core;
using Invisible.Identity.Tokens;
using Invisible.Server.Errors;
using Invisible.Server.Security;

namespace Invisible.Server.Rpc;

/// <summary>What service classes read from a call besides its message.</summary>
public static class CallContextExtensions
{
    /// <summary>The verified caller (see <see cref="CallerAuthentication"/>); UNAUTHENTICATED when there is none.</summary>
    public static Caller Caller(this ServerCallContext context) =>
        CallerPrincipal.Read(context.GetHttpContext().User)
        ?? throw DomainException.WithReason(ErrorKind.Unauthenticated, "Sign in to use this service.", "UNAUTHENTICATED", AccessRefusals.Domain);

    /// <summary>The request id (the client's <c>x-request-id</c>, else the server's), as in the log and the audit trail.</summary>
    public static string RequestId(this ServerCallContext context) => context.GetHttpContext().TraceIdentifier;

    /// <summary>The client's IP address: the unit of per-address limits.</summary>
    public static string Address(this ServerCallContext context) =>
        context.GetHttpContext().Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
