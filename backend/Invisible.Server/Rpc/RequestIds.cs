namespace Invisible.Server.Rpc;

/// <summary>
/// Every request has one id, echoed in <c>x-request-id</c> and carried by every log line of the request (a log scope):
/// the client's own when it sent an acceptable one, else Kestrel's <c>TraceIdentifier</c> (cheap: no random draw per call).
/// </summary>
public static class RequestIds
{
    public const string Header = "x-request-id";

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Headers[Header].ToString() is { Length: > 0 } sent && IsAcceptable(sent))
        {
            context.TraceIdentifier = sent;
        }

        context.Response.Headers[Header] = context.TraceIdentifier;
        var logger = context.RequestServices.GetRequiredService<ILogger<RequestIdScope>>();
        using (logger.BeginScope(new RequestIdScope(context.TraceIdentifier)))
        {
            await next(context);
        }
    });

    /// <summary>Whether a client's id can be echoed and logged as it is: short, and only letters, digits, '-', '_' and '.'.</summary>
    public static bool IsAcceptable(string id) =>
        id.Length is > 0 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The log scope's state: read by structured loggers as the property RequestId.</summary>
    public sealed record RequestIdScope(string RequestId) : IReadOnlyList<KeyValuePair<string, object>>
    {
        public int Count => 1;

        public KeyValuePair<string, object> this[int index] =>
            index == 0 ? new("RequestId", RequestId) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"RequestId:{RequestId}";
    }
}
