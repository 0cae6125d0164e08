using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Invisible.Server.Errors;

namespace Invisible.Server.Rpc;

/// <summary>
/// The request fields many services share (page_size, page_token, ids), read the same way everywhere. Each reader either
/// throws INVALID_ARGUMENT at once (no <c>violations</c> given) or adds its violation to <c>violations</c> and returns a
/// placeholder, for services that report every bad field of a request together.
/// </summary>
public static class RequestFields
{
    /// <summary>The page size when a request leaves page_size 0.</summary>
    public const int DefaultPageSize = 50;

    private const string PageTokenHint = "use next_page_token of the previous page";
    private const string ServiceIdHint = "must be an id returned by the service";

    /// <summary>page_size: 0 for <see cref="DefaultPageSize"/>, else 1 to <paramref name="maxPageSize"/>.</summary>
    public static int PageSize(int requested, int maxPageSize, ICollection<FieldViolation>? violations = null) => requested switch
    {
        0 => DefaultPageSize,
        _ when requested < 0 || requested > maxPageSize =>
            Invalid(violations, "Invalid page size.", new FieldViolation("page_size", $"must be between 1 and {maxPageSize}"), DefaultPageSize),
        _ => requested,
    };

    /// <summary>A token for pages read by offset: the number of items before the next page (opaque to clients).</summary>
    public static string OffsetToken(int offset) => offset.ToString(CultureInfo.InvariantCulture);

    /// <summary>The offset an <see cref="OffsetToken"/> names; 0 for the first page (no token).</summary>
    public static int ParseOffsetToken(string token, ICollection<FieldViolation>? violations = null) =>
        token.Length == 0 ? 0
        : int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset
        : Invalid(violations, "Invalid page token.", new FieldViolation("page_token", PageTokenHint), 0);

    /// <summary>A token for pages read backwards by a sequence number (audit entries, imports): the last one of this page.</summary>
    public static string SequenceToken(long last) => last.ToString(CultureInfo.InvariantCulture);

    /// <summary>The sequence number a <see cref="SequenceToken"/> names; null for the first page (no token).</summary>
    public static long? ParseSequenceToken(string token, ICollection<FieldViolation>? violations = null) =>
        token.Length == 0 ? null
        // Sequences start at 1, so no page is ever before 0.
        : long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var last) && last > 0 ? last
        : Invalid<long?>(violations, "Invalid page token.", new FieldViolation("page_token", PageTokenHint), null);

    /// <summary>
    /// A token for pages read in key order (vendor codes): the last key of this page, as base64url so that clients treat it
    /// as opaque and do not build their own.
    /// </summary>
    public static string KeyToken(string last) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(last));

    /// <summary>The key a <see cref="KeyToken"/> names; null for the first page (no token).</summary>
    public static string? ParseKeyToken(string token, ICollection<FieldViolation>? violations = null)
    {
        if (token.Length == 0)
        {
            return null;
        }

        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            return Invalid<string?>(violations, "Invalid page token.", new FieldViolation("page_token", PageTokenHint), null);
        }
    }

    /// <summary>An id the service handed out, in <paramref name="field"/>; <paramref name="description"/> says what belongs there.</summary>
    public static Guid ParseId(string value, string field, string description = ServiceIdHint) =>
        Guid.TryParse(value, out var id)
            ? id
            : throw DomainException.InvalidArgument($"{field} is not an id.", new FieldViolation(field, description));

    private static T Invalid<T>(ICollection<FieldViolation>? violations, string message, FieldViolation violation, T placeholder)
    {
        if (violations is null)
        {
            throw DomainException.InvalidArgument(message, violation);
        }

        violations.Add(violation);
        return placeholder;
    }
}
