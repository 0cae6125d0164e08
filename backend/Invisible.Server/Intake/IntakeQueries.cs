using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using LinqToDB;
using LinqToDB.Async;
using Npgsql;

namespace Invisible.Server.Intake;

public sealed record IntakeMessageView(IntakeMessageRow Message, IReadOnlyList<IntakeAttachmentRow> Attachments);

public sealed record IntakeMessagePage(IReadOnlyList<IntakeMessageView> Messages, bool HasMore, long HeldCount, long ToKeyCount);

public sealed record IntakeSettingsView(string PrimaryAddress, IReadOnlyList<string> Aliases, IReadOnlyList<string> Allowlist);

/// <summary>Thrown when an alias is already an address of some tenant (this one or another).</summary>
public sealed class IntakeAddressTakenException(string address) : Exception($"The address {address} is already taken.");

/// <summary>The intake log and settings as people read and change them, in the tenant's unit of work.</summary>
public sealed class IntakeQueries(TenantDatabase tenants, IntakeRecipients recipients)
{
    public async Task<IntakeMessagePage> ListAsync(Guid tenantId, string? status, long? beforeMessageNo, int pageSize, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var query = unitOfWork.Db.GetTable<IntakeMessageRow>().AsQueryable();
        if (!string.IsNullOrEmpty(status))
        {
            query = query.Where(m => m.Status == status);
        }

        if (beforeMessageNo is { } before)
        {
            query = query.Where(m => m.MessageNo < before);
        }

        var messages = await query.OrderByDescending(m => m.MessageNo).Take(pageSize + 1).ToListAsync(cancellationToken);
        var page = messages.Take(pageSize).ToList();
        var ids = page.Select(m => m.Id).ToList();
        var attachments = (await unitOfWork.Db.GetTable<IntakeAttachmentRow>().Where(a => ids.Contains(a.MessageId)).ToListAsync(cancellationToken))
            .ToLookup(a => a.MessageId);
        var held = await unitOfWork.Db.GetTable<IntakeMessageRow>().CountAsync(m => m.Status == MessageStatus.Held, cancellationToken);
        var toKey = await unitOfWork.Db.GetTable<IntakeAttachmentRow>().CountAsync(a => a.Outcome == AttachmentOutcome.ToKey, cancellationToken);
        return new IntakeMessagePage(
            page.Select(m => new IntakeMessageView(m, attachments[m.Id].OrderBy(a => a.Ordinal).ToList())).ToList(),
            messages.Count > pageSize, held, toKey);
    }

    public async Task<IntakeMessageView?> FindAsync(Guid tenantId, Guid messageId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var message = await unitOfWork.Db.GetTable<IntakeMessageRow>().FirstOrDefaultAsync(m => m.Id == messageId, cancellationToken);
        if (message is null)
        {
            return null;
        }

        var attachments = await unitOfWork.Db.GetTable<IntakeAttachmentRow>().Where(a => a.MessageId == messageId).OrderBy(a => a.Ordinal).ToListAsync(cancellationToken);
        return new IntakeMessageView(message, attachments);
    }

    public async Task<IntakeSettingsView> SettingsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        var slug = await unitOfWork.Db.GetTable<IntakeTenantRow>().Select(t => t.Slug).FirstAsync(cancellationToken);
        var aliases = await unitOfWork.Db.GetTable<IntakeAddressRow>().OrderBy(a => a.Address).Select(a => a.Address).ToListAsync(cancellationToken);
        var allowlist = await unitOfWork.Db.GetTable<IntakeAllowlistRow>().OrderBy(a => a.Entry).Select(a => a.Entry).ToListAsync(cancellationToken);
        return new IntakeSettingsView(recipients.AddressOf(slug), aliases, allowlist);
    }

    /// <exception cref="IntakeAddressTakenException">The address leads to a tenant already.</exception>
    public async Task AddAddressAsync(Guid tenantId, string address, string actor, string? requestId, CancellationToken cancellationToken)
    {
        if (await recipients.FindTenantAsync(address, cancellationToken) is not null)
        {
            throw new IntakeAddressTakenException(address);
        }

        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        try
        {
            await unitOfWork.Db.InsertAsync(new IntakeAddressRow { Address = address, TenantId = tenantId, CreatedBy = actor }, token: cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new IntakeAddressTakenException(address);
        }

        await AuditLog.AppendAsync(unitOfWork, actor, "intake.address.added", "intake_address", address, null, new { address }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
    }

    public async Task AddAllowlistEntryAsync(Guid tenantId, string entry, string actor, string? requestId, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await tenants.BeginAsync(tenantId, cancellationToken);
        if (await unitOfWork.Db.GetTable<IntakeAllowlistRow>().AnyAsync(a => a.Entry == entry, cancellationToken))
        {
            return;
        }

        await unitOfWork.Db.InsertAsync(new IntakeAllowlistRow { TenantId = tenantId, Entry = entry, CreatedBy = actor }, token: cancellationToken);
        await AuditLog.AppendAsync(unitOfWork, actor, "intake.allowlist.added", "intake_allowlist", entry, null, new { entry }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
    }
}
