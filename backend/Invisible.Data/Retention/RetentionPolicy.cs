namespace Invisible.Data.Retention;

/// <summary>
/// How long a tenant keeps its records. Financial documents (invoices, purchase orders, receipts, their imports and e-mails)
/// and the decisions about them are kept <see cref="FinancialYears"/> full years after the end of the fiscal year they belong
/// to; audit entries <see cref="AuditYears"/> years after they were written. Pure: the cut-offs follow from a date.
/// </summary>
public sealed record RetentionPolicy(int FinancialYears, int AuditYears, int FiscalYearEndMonth, int FiscalYearEndDay)
{
    public const int DefaultFinancialYears = 7;
    public const int DefaultAuditYears = 3;

    /// <summary>How long the product's own log files and PostgreSQL's server logs are kept.</summary>
    public static readonly TimeSpan SystemLogRetention = TimeSpan.FromDays(90);

    /// <summary>The seed's defaults: 7 years after a fiscal year ending 31 December, 3 years of audit entries.</summary>
    public static RetentionPolicy Default { get; } = new(DefaultFinancialYears, DefaultAuditYears, 12, 31);

    /// <summary>True when either period is shorter than the defaults: allowed only when forced, and recorded who forced it.</summary>
    public bool IsBelowDefaults => FinancialYears < DefaultFinancialYears || AuditYears < DefaultAuditYears;

    /// <summary>The problems of this policy (periods out of range, a fiscal year end that is no date); empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (FinancialYears is < 1 or > 100)
        {
            problems.Add($"Financial records are kept 1 to 100 years, not {FinancialYears}.");
        }

        if (AuditYears is < 1 or > 100)
        {
            problems.Add($"Audit entries are kept 1 to 100 years, not {AuditYears}.");
        }

        // 2001 is not a leap year: 29 February is no fiscal year end (it would not exist three years in four).
        if (FiscalYearEndMonth is < 1 or > 12 || FiscalYearEndDay < 1 || FiscalYearEndDay > DateTime.DaysInMonth(2001, FiscalYearEndMonth))
        {
            problems.Add($"The fiscal year end {FiscalYearEndMonth:D2}-{FiscalYearEndDay:D2} is not a day of every year (MM-DD).");
        }

        return problems;
    }

    /// <summary>The last day of the fiscal year that <paramref name="date"/> belongs to.</summary>
    public DateOnly FiscalYearEndOf(DateOnly date)
    {
        var end = new DateOnly(date.Year, FiscalYearEndMonth, FiscalYearEndDay);
        return date <= end ? end : end.AddYears(1);
    }

    /// <summary>
    /// Financial records dated on or before this day may go on <paramref name="today"/>: the end of the newest fiscal year
    /// whose <see cref="FinancialYears"/> years after it have fully passed.
    /// </summary>
    public DateOnly FinancialCutoff(DateOnly today)
    {
        var end = FiscalYearEndOf(today);
        while (end.AddYears(FinancialYears) >= today)
        {
            end = end.AddYears(-1);
        }

        return end;
    }

    /// <summary>Audit entries written before this moment may go at <paramref name="now"/>.</summary>
    public DateTimeOffset AuditCutoff(DateTimeOffset now) => now.ToUniversalTime().AddYears(-AuditYears);

    /// <summary>Parses a fiscal year end written MM-DD (e.g. 06-30).</summary>
    public static bool TryParseFiscalYearEnd(string text, out int month, out int day)
    {
        month = day = 0;
        var parts = text.Split('-');
        return parts.Length == 2 && int.TryParse(parts[0], out month) && int.TryParse(parts[1], out day);
    }
}
