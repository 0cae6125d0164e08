using LinqToDB.Mapping;

namespace Invisible.Server.Intake;

/// <summary>The states of a message in the intake log (intake_messages.status).</summary>
public static class MessageStatus
{
    public const string Processing = "processing";
    public const string Processed = "processed";
    public const string Held = "held";
    public const string Released = "released";
    public const string Discarded = "discarded";
    public const string Duplicate = "duplicate";
}

/// <summary>What became of one attachment (intake_attachments.outcome).</summary>
public static class AttachmentOutcome
{
    public const string Imported = "imported";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
    public const string Held = "held";
    public const string ToKey = "to_key";
    public const string Keyed = "keyed";
    public const string Ignored = "ignored";
    public const string Unreadable = "unreadable";
    public const string Discarded = "discarded";
}

[Table("intake_messages")]
public sealed class IntakeMessageRow
{
    [Column("id"), PrimaryKey] public Guid Id { get; set; }
    [Column("tenant_id")] public Guid TenantId { get; set; }
    [Column("message_no", SkipOnInsert = true, SkipOnUpdate = true)] public long MessageNo { get; set; }
    [Column("source")] public string Source { get; set; } = "smtp";
    [Column("message_id")] public string? MessageId { get; set; }
    [Column("content_sha256")] public string ContentSha256 { get; set; } = "";
    [Column("from_address")] public string FromAddress { get; set; } = "";
    [Column("to_addresses")] public string[] ToAddresses { get; set; } = [];
    [Column("subject")] public string Subject { get; set; } = "";
    [Column("received_at")] public DateTimeOffset ReceivedAt { get; set; }
    [Column("size_bytes")] public long SizeBytes { get; set; }
    [Column("status")] public string Status { get; set; } = MessageStatus.Processing;
    [Column("trust")] public string Trust { get; set; } = "";
    [Column("duplicate_of")] public Guid? DuplicateOf { get; set; }
    [Column("eml_blob")] public string? EmlBlob { get; set; }
    [Column("decided_by")] public string? DecidedBy { get; set; }
    [Column("decided_at")] public DateTimeOffset? DecidedAt { get; set; }
}

[Table("intake_attachments")]
public sealed class IntakeAttachmentRow
{
    [Column("tenant_id"), PrimaryKey(0)] public Guid TenantId { get; set; }
    [Column("message_id"), PrimaryKey(1)] public Guid MessageId { get; set; }
    [Column("ordinal"), PrimaryKey(2)] public int Ordinal { get; set; }
    [Column("path")] public string Path { get; set; } = "";
    [Column("file_name")] public string FileName { get; set; } = "";
    [Column("content_type")] public string ContentType { get; set; } = "";
    [Column("size_bytes")] public long SizeBytes { get; set; }
    [Column("outcome")] public string Outcome { get; set; } = AttachmentOutcome.Ignored;
    [Column("import_id")] public Guid? ImportId { get; set; }
    [Column("import_no")] public long? ImportNo { get; set; }
    [Column("note")] public string? Note { get; set; }
    [Column("pdf_blob")] public string? PdfBlob { get; set; }
    [Column("keyed_by")] public string? KeyedBy { get; set; }
    [Column("keyed_at")] public DateTimeOffset? KeyedAt { get; set; }
}

[Table("intake_addresses")]
public sealed class IntakeAddressRow
{
    [Column("address"), PrimaryKey] public string Address { get; set; } = "";
    [Column("tenant_id")] public Guid TenantId { get; set; }
    [Column("created_by")] public string CreatedBy { get; set; } = "";
    [Column("created_at", SkipOnInsert = true)] public DateTimeOffset CreatedAt { get; set; }
}

[Table("intake_allowlist")]
public sealed class IntakeAllowlistRow
{
    [Column("tenant_id"), PrimaryKey(0)] public Guid TenantId { get; set; }
    [Column("entry"), PrimaryKey(1)] public string Entry { get; set; } = "";
    [Column("created_by")] public string CreatedBy { get; set; } = "";
    [Column("created_at", SkipOnInsert = true)] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The sender columns the trust check reads from the tenant's users (vendors: <see cref="Invisible.Server.Vendors.VendorsBySender"/>).</summary>
[Table("users")]
internal sealed class IntakeUserRow
{
    [Column("email_index")] public byte[] EmailIndex { get; set; } = [];
    [Column("disabled_at")] public DateTimeOffset? DisabledAt { get; set; }
}

/// <summary>The tenant's own row (row-level security shows only it), for its slug.</summary>
[Table("tenants")]
internal sealed class IntakeTenantRow
{
    [Column("slug")] public string Slug { get; set; } = "";
}
