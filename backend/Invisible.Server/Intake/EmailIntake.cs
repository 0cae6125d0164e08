using Invisible.Identity.Encryption;
using Invisible.Server.FieldEncryption;
using System.Security.Cryptography;
using Invisible.Data.Audit;
using Invisible.Data.Imports;
using Invisible.Data.Tenancy;
using Invisible.Ingestion;
using Invisible.Ingestion.Mail;
using Invisible.Platform.Blobs;
using Invisible.Server.Imports;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Microsoft.Extensions.Options;

using Invisible.Server.Vendors;

namespace Invisible.Server.Intake;

/// <summary>Where a message came from (intake_messages.source).</summary>
public enum IntakeSource
{
    Smtp,
    Imap,
}

/// <summary>What the intake did with one message: its row in the log, and whether it was new.</summary>
public sealed record IntakeResult(Guid MessageId, long MessageNo, string Status, IReadOnlyList<IntakeAttachmentRow> Attachments);

/// <summary>
/// Receives one raw message for one tenant: records it in the intake log (nothing is dropped silently), keeps the
/// original .eml, decides trust, and imports each attachment through <see cref="ImportService"/> (the one import path),
/// keeping PDFs without invoice data as <i>to key</i> items. A message already received (same Message-ID, or the same
/// bytes) is recorded as a duplicate and imports nothing.
/// </summary>
public sealed class EmailIntake(
    TenantDatabase tenants,
    IBlobStore blobs,
    ImportService imports,
    IntakeReplies replies,
    TimeProvider time,
    PersonalDataKeys personalDataKeys,
    ILogger<EmailIntake> logger)
{
    public async Task<IntakeResult> ReceiveAsync(Guid tenantId, ReadOnlyMemory<byte> raw, IntakeSource source, CancellationToken cancellationToken)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(raw.Span));
        var reading = Read(raw, cancellationToken);
        IntakeMessageRow message;
        TrustVerdict verdict;
        await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
        {
            // Serialises deliveries of the same message (a relay retrying while the first attempt still runs), so that
            // exactly one of them is the original and the other finds it; raw SQL: linq2db has no advisory lock.
            await unitOfWork.Db.ExecuteAsync(
                "select pg_advisory_xact_lock(hashtextextended(@key, 21))", cancellationToken,
                new DataParameter("key", $"intake:{tenantId:N}:{reading.MessageId ?? sha256}"));
            var earlier = await unitOfWork.Db.GetTable<IntakeMessageRow>()
                .Where(m => m.Status != MessageStatus.Duplicate && (m.ContentSha256 == sha256 || (reading.MessageId != null && m.MessageId == reading.MessageId)))
                .OrderBy(m => m.MessageNo)
                .FirstOrDefaultAsync(cancellationToken);
            if (earlier is { Status: not MessageStatus.Processing })
            {
                return await RecordDuplicateAsync(unitOfWork, earlier, reading, sha256, raw.Length, source, cancellationToken);
            }

            verdict = SenderTrust.Decide(reading, await KnownSendersAsync(unitOfWork, reading, cancellationToken));
            // An earlier delivery that stopped half-way (the process died) is finished now under its own row: its imports
            // are idempotent by content, so nothing is imported twice and nothing is skipped.
            message = earlier ?? new IntakeMessageRow
            {
                Id = Guid.NewGuid(),
                TenantId = tenantId,
                Source = source == IntakeSource.Smtp ? "smtp" : "imap",
                MessageId = reading.MessageId is { Length: <= 998 } id ? id : null,
                ContentSha256 = sha256,
                FromAddress = Truncate(reading.From, 320),
                ToAddresses = reading.To.Take(50).Select(address => Truncate(address, 320)).ToArray(),
                Subject = Truncate(reading.Subject, 998),
                ReceivedAt = time.GetUtcNow(),
                SizeBytes = raw.Length,
            };
            message.Trust = verdict.Explanation;
            message.EmlBlob = $"tenants/{tenantId:N}/intake/{message.Id:N}/message.eml";
            // Kept before the commit, like an import's file: a log row never points at an .eml that was not written.
            await blobs.PutAsync(message.EmlBlob, raw, cancellationToken);
            if (!verdict.Trusted)
            {
                message.Status = MessageStatus.Held;
                var held = reading.Parts.Select((part, ordinal) => AttachmentRow(message, ordinal, part, part.Kind switch
                {
                    MailPartKind.InvoiceFile or MailPartKind.Pdf => AttachmentOutcome.Held,
                    MailPartKind.Unreadable => AttachmentOutcome.Unreadable,
                    _ => AttachmentOutcome.Ignored,
                }, part.Note)).ToList();
                await SaveAsync(unitOfWork, message, held, isNew: earlier is null, cancellationToken);
                await AuditLog.AppendAsync(unitOfWork, Actor(reading), "intake.message.held", "intake_message", message.Id.ToString(), null,
                    Summary(message, held), null, cancellationToken);
                await unitOfWork.CommitAsync(cancellationToken);
                logger.LogInformation("Intake message {IntakeMessageId} for tenant {TenantId} held: {Reason}", message.Id, tenantId, verdict.Reason);
                return new IntakeResult(message.Id, message.MessageNo, message.Status, held);
            }

            if (earlier is null)
            {
                message.Status = MessageStatus.Processing;
                message.MessageNo = await InsertAsync(unitOfWork.Db, message, cancellationToken);
            }

            await unitOfWork.CommitAsync(cancellationToken);
        }

        return await ProcessAsync(tenantId, message, reading, Actor(reading), MessageStatus.Processed, "intake.message.processed", cancellationToken);
    }

    /// <summary>Processes a held message as if its sender were trusted; false when there is no held message of that id.</summary>
    public async Task<IntakeResult?> ReleaseAsync(Guid tenantId, Guid messageId, string actor, CancellationToken cancellationToken)
    {
        IntakeMessageRow? message;
        byte[]? raw;
        await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
        {
            message = await unitOfWork.Db.GetTable<IntakeMessageRow>().Where(m => m.Id == messageId).FirstOrDefaultAsync(cancellationToken);
            if (message is not { Status: MessageStatus.Held, EmlBlob: { } blob })
            {
                return null;
            }

            raw = await blobs.GetAsync(blob, cancellationToken)
                ?? throw new InvalidOperationException($"The kept message of intake message {messageId} is missing: {blob}.");
            message.Status = MessageStatus.Processing;
            message.DecidedBy = actor;
            message.DecidedAt = time.GetUtcNow();
            await unitOfWork.Db.UpdateAsync(message, token: cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }

        var reading = Read(raw, cancellationToken);
        return await ProcessAsync(tenantId, message, reading, actor, MessageStatus.Released, "intake.message.released", cancellationToken);
    }

    /// <summary>Discards a held message: kept in the log as discarded, nothing imported. False when it is not held.</summary>
    public async Task<bool> DiscardAsync(Guid tenantId, Guid messageId, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var message = await unitOfWork.Db.GetTable<IntakeMessageRow>().Where(m => m.Id == messageId).FirstOrDefaultAsync(cancellationToken);
        if (message is not { Status: MessageStatus.Held })
        {
            return false;
        }

        message.Status = MessageStatus.Discarded;
        message.DecidedBy = actor;
        message.DecidedAt = time.GetUtcNow();
        await unitOfWork.Db.UpdateAsync(message, token: cancellationToken);
        await unitOfWork.Db.GetTable<IntakeAttachmentRow>()
            .Where(a => a.MessageId == messageId && a.Outcome == AttachmentOutcome.Held)
            .Set(a => a.Outcome, AttachmentOutcome.Discarded)
            .UpdateAsync(cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, actor, "intake.message.discarded", "intake_message", messageId.ToString(),
            new { status = MessageStatus.Held }, new { status = MessageStatus.Discarded }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<IntakeResult> ProcessAsync(
        Guid tenantId, IntakeMessageRow message, MailReading reading, string actor, string finalStatus, string auditAction, CancellationToken cancellationToken)
    {
        var attachments = new List<IntakeAttachmentRow>();
        for (var ordinal = 0; ordinal < reading.Parts.Count; ordinal++)
        {
            attachments.Add(await AttachmentAsync(tenantId, message, ordinal, reading.Parts[ordinal], actor, cancellationToken));
        }

        await using (var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken))
        {
            message.Status = finalStatus;
            await SaveAsync(unitOfWork, message, attachments, isNew: false, cancellationToken);
            await AuditLog.AppendAsync(unitOfWork, actor, auditAction, "intake_message", message.Id.ToString(), null,
                Summary(message, attachments), $"intake:{message.Id:N}", cancellationToken);
            await unitOfWork.CommitAsync(cancellationToken);
        }

        logger.LogInformation(
            "Intake message {IntakeMessageId} for tenant {TenantId}: {Status}, {Imported} imported, {ToKey} to key, {Rejected} rejected, {Ignored} ignored",
            message.Id, tenantId, finalStatus, attachments.Count(a => a.Outcome == AttachmentOutcome.Imported), attachments.Count(a => a.Outcome == AttachmentOutcome.ToKey),
            attachments.Count(a => a.Outcome == AttachmentOutcome.Rejected), attachments.Count(a => a.Outcome is AttachmentOutcome.Ignored or AttachmentOutcome.Unreadable));
        await replies.SendOutcomeAsync(reading, message, attachments, cancellationToken);
        return new IntakeResult(message.Id, message.MessageNo, finalStatus, attachments);
    }

    private async Task<IntakeAttachmentRow> AttachmentAsync(
        Guid tenantId, IntakeMessageRow message, int ordinal, MailPart part, string actor, CancellationToken cancellationToken)
    {
        switch (part.Kind)
        {
            case MailPartKind.Ignored:
                return AttachmentRow(message, ordinal, part, AttachmentOutcome.Ignored, part.Note);
            case MailPartKind.Unreadable:
                return AttachmentRow(message, ordinal, part, AttachmentOutcome.Unreadable, part.Note);
        }

        var request = new ImportRequest(DocumentKind.Invoices, part.FileName, ImportSource.Email, actor, $"intake:{message.Id:N}");
        using var content = new MemoryStream(part.Content, writable: false);
        var outcome = await imports.ImportAsync(tenantId, request, content, ImportOptions.Default, progress: null, cancellationToken);
        var row = AttachmentRow(message, ordinal, part, outcome.Kind switch
        {
            ImportOutcomeKind.Stored => AttachmentOutcome.Imported,
            ImportOutcomeKind.Duplicate => AttachmentOutcome.Duplicate,
            _ => AttachmentOutcome.Rejected,
        }, outcome.Kind switch
        {
            ImportOutcomeKind.Stored => $"imported as import #{outcome.Record.ImportNo}, {outcome.Record.RowCount} rows",
            ImportOutcomeKind.Duplicate => $"already imported as import #{outcome.Record.ImportNo}",
            _ => Truncate($"rejected with {outcome.Parse.TotalErrorCount} errors: {string.Join("; ", outcome.Parse.Errors.Take(3).Select(e => e.Reason))}", 2000),
        });
        row.ImportId = outcome.Record.Id;
        row.ImportNo = outcome.Record.ImportNo;
        // The import's contract for a PDF that carries no invoice data: nothing to import, so a person keys it.
        if (part.Kind == MailPartKind.Pdf && outcome.Kind == ImportOutcomeKind.Rejected && outcome.Parse.Errors.Count > 0 &&
            outcome.Parse.Errors.All(error => error.Code == ImportErrorCodes.NoInvoiceData))
        {
            var keyed = await ToKeyAsync(tenantId, message, ordinal, part, "a PDF without invoice data: to key", cancellationToken);
            keyed.ImportId = outcome.Record.Id;
            keyed.ImportNo = outcome.Record.ImportNo;
            return keyed;
        }

        return row;
    }

    private async Task<IntakeAttachmentRow> ToKeyAsync(
        Guid tenantId, IntakeMessageRow message, int ordinal, MailPart part, string note, CancellationToken cancellationToken)
    {
        var row = AttachmentRow(message, ordinal, part, AttachmentOutcome.ToKey, note);
        row.PdfBlob = $"tenants/{tenantId:N}/intake/{message.Id:N}/{ordinal:D4}.pdf";
        await blobs.PutAsync(row.PdfBlob, part.Content, cancellationToken);
        return row;
    }

    private async Task<IntakeResult> RecordDuplicateAsync(
        TenantUnitOfWork unitOfWork, IntakeMessageRow earlier, MailReading reading, string sha256, long size, IntakeSource source, CancellationToken cancellationToken)
    {
        var duplicate = new IntakeMessageRow
        {
            Id = Guid.NewGuid(),
            TenantId = unitOfWork.TenantId,
            Source = source == IntakeSource.Smtp ? "smtp" : "imap",
            MessageId = reading.MessageId is { Length: <= 998 } id ? id : null,
            ContentSha256 = sha256,
            FromAddress = Truncate(reading.From, 320),
            ToAddresses = reading.To.Take(50).Select(address => Truncate(address, 320)).ToArray(),
            Subject = Truncate(reading.Subject, 998),
            ReceivedAt = time.GetUtcNow(),
            SizeBytes = size,
            Status = MessageStatus.Duplicate,
            Trust = $"a resend of message #{earlier.MessageNo}: nothing imported again",
            DuplicateOf = earlier.Id,
        };
        duplicate.MessageNo = await InsertAsync(unitOfWork.Db, duplicate, cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, Actor(reading), "intake.message.duplicate", "intake_message", duplicate.Id.ToString(), null,
            new { duplicate.MessageNo, duplicateOf = earlier.Id, earlier = earlier.MessageNo }, null, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return new IntakeResult(duplicate.Id, duplicate.MessageNo, duplicate.Status, []);
    }

    private static async Task SaveAsync(
        TenantUnitOfWork unitOfWork, IntakeMessageRow message, IReadOnlyList<IntakeAttachmentRow> attachments, bool isNew, CancellationToken cancellationToken)
    {
        if (isNew)
        {
            message.MessageNo = await InsertAsync(unitOfWork.Db, message, cancellationToken);
        }
        else
        {
            await unitOfWork.Db.UpdateAsync(message, token: cancellationToken);
            await unitOfWork.Db.GetTable<IntakeAttachmentRow>().Where(a => a.MessageId == message.Id).DeleteAsync(cancellationToken);
        }

        foreach (var attachment in attachments)
        {
            await unitOfWork.Db.InsertAsync(attachment, token: cancellationToken);
        }
    }

    private static async Task<long> InsertAsync(DataConnection db, IntakeMessageRow message, CancellationToken cancellationToken)
    {
        await db.InsertAsync(message, token: cancellationToken);
        return await db.GetTable<IntakeMessageRow>().Where(m => m.Id == message.Id).Select(m => m.MessageNo).FirstAsync(cancellationToken);
    }

    /// <summary>The users, vendors and allowlist entries that could vouch for this sender.</summary>
    private async Task<KnownSenders> KnownSendersAsync(TenantUnitOfWork unitOfWork, MailReading reading, CancellationToken cancellationToken)
    {
        var db = unitOfWork.Db;
        var from = reading.From;
        var domainSuffix = "@" + reading.FromDomain;
        if (from.Length == 0)
        {
            return new KnownSenders(new HashSet<string>(), new HashSet<string>(), new HashSet<string>());
        }

        // Addresses are sealed (issue #20): a user is found by the blind index of the address, a vendor by its address or domain.
        var emailIndex = (await personalDataKeys.IndexAsync(cancellationToken)).OfEmail(from);
        var users = await db.GetTable<IntakeUserRow>().AnyAsync(u => u.DisabledAt == null && u.EmailIndex == emailIndex, cancellationToken)
            ? new[] { from }
            : [];
        var vendors = (await VendorsBySender.FindAsync(unitOfWork, personalDataKeys, from, cancellationToken)).Select(vendor => vendor.Email).Take(10).ToList();
        var allowed = await db.GetTable<IntakeAllowlistRow>()
            .Where(a => a.Entry == from || a.Entry == domainSuffix)
            .Select(a => a.Entry).ToListAsync(cancellationToken);
        return new KnownSenders(users.ToHashSet(), vendors.ToHashSet(), allowed.ToHashSet());
    }

    private static MailReading Read(ReadOnlyMemory<byte> raw, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(raw.ToArray(), writable: false);
        return MailReader.Read(stream, MailReadingLimits.Default, cancellationToken);
    }

    private static IntakeAttachmentRow AttachmentRow(IntakeMessageRow message, int ordinal, MailPart part, string outcome, string? note) => new()
    {
        TenantId = message.TenantId,
        MessageId = message.Id,
        Ordinal = ordinal,
        Path = Truncate(part.Path, 1000),
        FileName = Truncate(part.FileName, 255),
        ContentType = Truncate(part.ContentType, 255),
        SizeBytes = part.Size,
        Outcome = outcome,
        Note = note,
    };

    private static object Summary(IntakeMessageRow message, IReadOnlyList<IntakeAttachmentRow> attachments) => new
    {
        message.MessageNo,
        message.MessageId,
        from = message.FromAddress,
        message.Subject,
        message.Status,
        message.Trust,
        attachments = attachments.Select(a => new { a.Path, a.Outcome, a.ImportNo }),
    };

    private static string Actor(MailReading reading) => reading.From.Length > 0 ? $"email:{Truncate(reading.From, 320)}" : "email:unknown";

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
