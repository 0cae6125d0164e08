using System.Net;

namespace Invisible.Server.Accounts;

/// <summary>
/// How many "Forgot password?" requests an e-mail address and a network may make in a window
/// (<see cref="AccountsOptions.PasswordResetRequestsPerAddress"/>, <see cref="AccountsOptions.PasswordResetRequestsPerNetwork"/>).
/// Keyed by the address's blind index, so unknown addresses are limited exactly like real ones; by network rather than by
/// IP, as one machine easily has many IPv6 addresses. Per process, like the sign-in request-rate limiter: a restart forgives.
/// </summary>
public sealed class PasswordResetRequestLimits(Microsoft.Extensions.Options.IOptions<AccountsOptions> options, TimeProvider time)
{
    private const int PruneAbove = 10_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Counts the request against both limits if neither is reached (then null); otherwise how long to wait, and nothing is counted.</summary>
    public TimeSpan? TryCount(byte[] emailIndex, string address)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var keys = new[]
        {
            ("email:" + Convert.ToHexStringLower(emailIndex), settings.PasswordResetRequestsPerAddress),
            ("network:" + NetworkOf(address), settings.PasswordResetRequestsPerNetwork),
        };
        lock (_gate)
        {
            if (_windows.Count > PruneAbove)
            {
                foreach (var ended in _windows.Where(pair => now - pair.Value.StartedAt >= settings.PasswordResetRequestWindow).Select(pair => pair.Key).ToList())
                {
                    _windows.Remove(ended);
                }
            }

            var current = keys.Select(key => (key.Item1, key.Item2, Window: Current(key.Item1, now, settings.PasswordResetRequestWindow))).ToList();
            var full = current.Where(entry => entry.Window.Count >= entry.Item2).ToList();
            if (full.Count > 0)
            {
                return full.Max(entry => entry.Window.StartedAt + settings.PasswordResetRequestWindow - now);
            }

            foreach (var (key, _, window) in current)
            {
                _windows[key] = window with { Count = window.Count + 1 };
            }

            return null;
        }
    }

    /// <summary>The /24 of an IPv4 address, the /64 of an IPv6 one; anything unparsable stands for itself.</summary>
    public static string NetworkOf(string address)
    {
        if (!IPAddress.TryParse(address, out var ip))
        {
            return address;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        var bytes = ip.GetAddressBytes();
        var prefix = bytes.Length == 4 ? 3 : 8;
        Array.Clear(bytes, prefix, bytes.Length - prefix);
        return $"{new IPAddress(bytes)}/{prefix * 8}";
    }

    private Window Current(string key, DateTimeOffset now, TimeSpan length) =>
        _windows.TryGetValue(key, out var window) && now - window.StartedAt < length ? window : new Window(now, 0);

    private sealed record Window(DateTimeOffset StartedAt, int Count);
}
