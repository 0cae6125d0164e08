using System.Diagnostics;

namespace Invisible.Ingestion;

/// <summary>
/// Spans of the reading passes, on the product's <see cref="ActivitySource"/> (named <c>Invisible</c>, like the one in
/// <c>Invisible.Data.Diagnostics.ProductDiagnostics</c>; this project stands below it). The tenant attribute is copied from
/// the enclosing span, since reading a file knows no tenant.
/// </summary>
internal static class IngestionDiagnostics
{
    private const string TenantAttribute = "invisible.tenant_id";

    private static readonly ActivitySource Source = new("Invisible");

    public static Activity? StartSpan(string name)
    {
        var tenant = Activity.Current?.GetTagItem(TenantAttribute);
        var activity = Source.StartActivity(name);
        if (tenant is not null)
        {
            activity?.SetTag(TenantAttribute, tenant);
        }

        return activity;
    }
}
