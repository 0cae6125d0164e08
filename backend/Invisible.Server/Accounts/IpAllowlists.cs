using System.Collections.Concurrent;
using System.Net;
using Invisible.Data.Audit;
using Invisible.Data.Tenancy;
using Invisible.Identity.Tokens;
using Invisible.Server.Errors;
using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Mapping;

namespace Invisible.Server.Accounts;

/// <summary>One range of a tenant's IP allowlist (table <c>tenant_ip_allowlist</c>, migration 0022).</summary>
[Table("tenant_ip_allowlist")]
public sealed class AllowedRangeRow
{
    [Column("tenant_id"), PrimaryKey(0)]
    public Guid TenantId { get; set; }

    [Column("cidr"), PrimaryKey(1)]
    public string Cidr { get; set; } = string.Empty;

    [Column("created_by")]
    public string CreatedBy { get; set; } = string.Empty;

    [Column("created_at")]
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A tenant's IP allowlist: the CIDR ranges its people may sign in and refresh from and its API keys may call from (none:
/// anywhere). The client address is the connection's, which is the real client's only when forwarded headers come from a
/// configured proxy (<c>ForwardedHeaders</c>). Refusals are audited as <c>auth.address_refused</c>. API-key calls read the
/// list through a cache of <see cref="CacheLifetime"/>; a change made on this server applies at once.
/// </summary>
public sealed class IpAllowlists(TenantDatabase database, TimeProvider time, ILogger<IpAllowlists> logger)
{
    public const int MaxRanges = 100;

    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<Guid, (IReadOnlyList<IPNetwork> Ranges, DateTimeOffset ReadAt)> _cache = new();

    public async Task<IReadOnlyList<string>> GetAsync(Caller caller, CancellationToken cancellationToken)
    {
        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        return (await ReadAsync(unitOfWork, cancellationToken)).Select(range => range.ToString()).ToList();
    }

    /// <summary>Replaces the list; refuses one that would shut out <paramref name="callerAddress"/>, the administrator making the change.</summary>
    public async Task<IReadOnlyList<string>> SetAsync(
        Caller caller, IReadOnlyList<string> ranges, string callerAddress, string? requestId, CancellationToken cancellationToken)
    {
        var parsed = Parse(ranges);
        if (parsed.Count > 0 && !Allows(parsed, ParseAddress(callerAddress)))
        {
            throw DomainException.WithReason(
                ErrorKind.FailedPrecondition, $"The list does not include your own address ({callerAddress}); you would be shut out.",
                "ALLOWLIST_EXCLUDES_CALLER", AuthErrors.Domain);
        }

        await using var unitOfWork = await database.BeginAsync(caller.TenantId, cancellationToken);
        var before = (await ReadAsync(unitOfWork, cancellationToken)).Select(range => range.ToString()).ToList();
        var table = unitOfWork.Db.GetTable<AllowedRangeRow>();
        await table.Where(row => row.TenantId == caller.TenantId).DeleteAsync(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var range in parsed)
        {
            await unitOfWork.Db.InsertAsync(
                new AllowedRangeRow { TenantId = caller.TenantId, Cidr = range.ToString(), CreatedBy = caller.AuditActor, CreatedAt = now },
                token: cancellationToken);
        }

        var after = parsed.Select(range => range.ToString()).ToList();
        await AuditLog.AppendAsync(unitOfWork, caller.AuditActor, "tenant.ip_allowlist_changed", "tenant", caller.TenantId.ToString(),
            new { ranges = before }, new { ranges = after }, requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        _cache.TryRemove(caller.TenantId, out _);
        return after;
    }

    /// <summary>Whether the tenant of <paramref name="unitOfWork"/> accepts calls from <paramref name="address"/>; audits a refusal.</summary>
    public async Task<bool> AllowsAsync(TenantUnitOfWork unitOfWork, string address, string actor, string attempt, string? requestId, CancellationToken cancellationToken)
    {
        var ranges = await ReadAsync(unitOfWork, cancellationToken);
        if (Allows(ranges, ParseAddress(address)))
        {
            return true;
        }

        await AuditRefusalAsync(unitOfWork, address, actor, attempt, requestId, cancellationToken);
        return false;
    }

    /// <summary>
    /// Whether an API key of <paramref name="tenantId"/> may call from <paramref name="address"/>, from the cached list; a
    /// refusal is audited in a unit of work of its own.
    /// </summary>
    public async Task<bool> AllowsApiKeyCallAsync(Guid tenantId, IPAddress? address, string actor, string? requestId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(tenantId, out var cached) || now - cached.ReadAt > CacheLifetime)
        {
            await using var reading = await database.BeginAsync(tenantId, cancellationToken);
            cached = (await ReadAsync(reading, cancellationToken), now);
            _cache[tenantId] = cached;
        }

        if (Allows(cached.Ranges, address))
        {
            return true;
        }

        await using var unitOfWork = await database.BeginAsync(tenantId, cancellationToken);
        await AuditRefusalAsync(unitOfWork, address?.ToString() ?? "unknown", actor, "api_key", requestId, cancellationToken);
        await unitOfWork.CommitAsync(cancellationToken);
        return false;
    }

    public static bool Allows(IReadOnlyList<IPNetwork> ranges, IPAddress? address)
    {
        if (ranges.Count == 0)
        {
            return true;
        }

        if (address is null)
        {
            return false;
        }

        var client = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return ranges.Any(range => range.Contains(client));
    }

    public static IPAddress? ParseAddress(string address) => IPAddress.TryParse(address, out var parsed) ? parsed : null;

    private async Task AuditRefusalAsync(TenantUnitOfWork unitOfWork, string address, string actor, string attempt, string? requestId, CancellationToken cancellationToken)
    {
        logger.LogWarning("{Attempt} of {Actor} refused: {Address} is outside the tenant's IP allowlist", attempt, actor, address);
        await AuditLog.AppendAsync(unitOfWork, actor, "auth.address_refused", "tenant", unitOfWork.TenantId.ToString(), null,
            new { address, attempt }, requestId, cancellationToken);
    }

    private static async Task<IReadOnlyList<IPNetwork>> ReadAsync(TenantUnitOfWork unitOfWork, CancellationToken cancellationToken) =>
        (await unitOfWork.Db.GetTable<AllowedRangeRow>().Where(row => row.TenantId == unitOfWork.TenantId).Select(row => row.Cidr).ToListAsync(cancellationToken))
            .Select(cidr => IPNetwork.Parse(cidr))
            .ToList();

    private static List<IPNetwork> Parse(IReadOnlyList<string> ranges)
    {
        var violations = new List<FieldViolation>();
        var parsed = new List<IPNetwork>();
        for (var index = 0; index < ranges.Count; index++)
        {
            var text = ranges[index].Trim();
            // A bare address is a range of one.
            if (IPAddress.TryParse(text, out var single))
            {
                text = $"{text}/{(single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}";
            }

            if (IPNetwork.TryParse(text, out var range))
            {
                parsed.Add(range);
            }
            else
            {
                violations.Add(new FieldViolation($"cidr_ranges[{index}]", "must be a CIDR range such as 203.0.113.0/24 (no host bits set) or one address", "INVALID_CIDR"));
            }
        }

        if (ranges.Count > MaxRanges)
        {
            violations.Add(new FieldViolation("cidr_ranges", $"at most {MaxRanges} ranges", "TOO_MANY_RANGES"));
        }

        if (violations.Count > 0)
        {
            throw DomainException.InvalidArgument("The IP allowlist is not valid.", violations);
        }

        return parsed.Distinct().ToList();
    }
}
