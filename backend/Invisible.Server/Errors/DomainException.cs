namespace Invisible.Server.Errors;

/// <summary>
/// What kind of failure a <see cref="DomainException"/> is. The values are google.rpc.Code's, the error model that gRPC
/// and the REST mapping share, so the one interceptor that turns exceptions into statuses needs no table.
/// </summary>
public enum ErrorKind
{
    Cancelled = 1,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

/// <summary>
/// A failure the caller can act on, thrown by application code (never a transport exception): a message for people (sent
/// to the client, so nothing secret or internal), a machine-readable <see cref="Reason"/> in a <see cref="Domain"/> that
/// clients branch on, and for invalid requests the <see cref="FieldViolations"/>. The gRPC layer maps it to a status with
/// <c>google.rpc.ErrorInfo</c> / <c>google.rpc.BadRequest</c> details (<c>Grpc/ErrorInterceptor</c>).
/// </summary>
public sealed class DomainException : Exception
{
    public DomainException(ErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public ErrorKind Kind { get; }

    /// <summary>UPPER_SNAKE_CASE, e.g. "INVOICE_NOT_FOUND"; null for errors without one.</summary>
    public string? Reason { get; private init; }

    /// <summary>Where the reason is defined, e.g. "matching.invisible.app".</summary>
    public string? Domain { get; private init; }

    /// <summary>Facts a client may use (e.g. "retry_after_seconds"), sent in <c>ErrorInfo.metadata</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private init; } = new Dictionary<string, string>();

    /// <summary>How long to wait before trying again (sent as <c>google.rpc.RetryInfo</c>); null when retrying soon would not help.</summary>
    public TimeSpan? RetryAfter { get; private init; }

    /// <summary>What is wrong with each field of an invalid request.</summary>
    public IReadOnlyList<FieldViolation> FieldViolations { get; private init; } = [];

    /// <summary>A domain error: the client branches on <paramref name="reason"/> within <paramref name="domain"/>.</summary>
    public static DomainException WithReason(
        ErrorKind kind, string message, string reason, string domain, IReadOnlyDictionary<string, string>? metadata = null, TimeSpan? retryAfter = null) =>
        new(kind, message) { Reason = reason, Domain = domain, Metadata = metadata ?? new Dictionary<string, string>(), RetryAfter = retryAfter };

    /// <summary>A validation error: INVALID_ARGUMENT with one violation per offending field.</summary>
    public static DomainException InvalidArgument(string message, params IEnumerable<FieldViolation> violations) =>
        new(ErrorKind.InvalidArgument, message) { FieldViolations = violations.ToList() };
}

/// <param name="Field">Path to the offending field, e.g. "lines[2].quantity".</param>
/// <param name="Description">What is wrong, for people.</param>
/// <param name="Reason">Optional machine-readable reason, e.g. "MUST_BE_POSITIVE".</param>
public sealed record FieldViolation(string Field, string Description, string? Reason = null);
