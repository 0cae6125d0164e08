using Invisible.Ingestion.Canonical;

namespace Invisible.Ingestion.Validation;

public sealed class VendorRules(ErrorCollector errors) : IRowRules<VendorRow>
{
    private readonly NaturalKeySet<UInt128> _vendorCodes = new();

    public void Check(VendorRow row)
    {
        if (_vendorCodes.AddOrGetFirstLine(NaturalKey.Fingerprint(row.VendorCode), row.SourceLine) is { } first)
        {
            errors.Add(row.SourceLine, "vendor_code", row.VendorCode, $"duplicate vendor_code: already on line {first}");
        }

        RowRules.CheckCurrency(errors, row.SourceLine, row.Currency);
        if (row.Country is not null && !IsoCodes.IsCountry(row.Country))
        {
            errors.Add(row.SourceLine, "country", row.Country, "not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. DE)");
        }

        if (row.Email is { } email && (email.IndexOf('@', StringComparison.Ordinal) is <= 0 || email.EndsWith('@') || email.Any(char.IsWhiteSpace)))
        {
            errors.Add(row.SourceLine, "email", email, "not an e-mail address");
        }
    }

    public Task CheckReferencesAsync(IReadOnlyList<VendorRow> batch, IReferenceData references, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public void Complete()
    {
    }
}
