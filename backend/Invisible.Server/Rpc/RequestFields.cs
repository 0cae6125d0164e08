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

    /// <summary>
    /// A token for pages read by keyset (deep pages of big lists): the sort values of this page's last item, and whatever
    /// else the list needs to go on (free text only as the last value), as base64url after a letter so that it never reads as
    /// an <see cref="OffsetToken"/>.
    /// </summary>
    public static string KeysetToken(IReadOnlyList<string> values) =>
        KeysetPrefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join(KeysetSeparator, values)));

    /// <summary>Whether <paramref name="token"/> is a <see cref="KeysetToken"/> (else an offset token or none).</summary>
    public static bool IsKeysetToken(string token) => token.StartsWith(KeysetPrefix, StringComparison.Ordinal);

    /// <summary>The values a <see cref="KeysetToken"/> names, <paramref name="count"/> of them; null for the first page (no token).</summary>
    public static IReadOnlyList<string>? ParseKeysetToken(string token, int count, ICollection<FieldViolation>? violations = null)
    {
        if (token.Length == 0)
        {
            return null;
        }

        try
        {
            var values = IsKeysetToken(token)
                ? Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.AsSpan(KeysetPrefix.Length))).Split(KeysetSeparator, count)
                : [];
            if (values.Length == count)
            {
                return values;
            }
        }
        catch (FormatException)
        {
        }

        return Invalid<IReadOnlyList<string>?>(violations, "Invalid page token.", new FieldViolation("page_token", PageTokenHint), null);
    }

    /// <summary>A page token that is well-formed but does not fit the request (another sort or filter than its first page's).</summary>
    public static DomainException InvalidPageToken() =>
        DomainException.InvalidArgument("Invalid page token.", new FieldViolation("page_token", PageTokenHint + " with the same filters and sort"));

    private const string KeysetPrefix = "k";
    // A unit separator; only the last value may contain one (it is split off count values).
    private const char KeysetSeparator = '\u001f';

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
