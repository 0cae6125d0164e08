using Invisible.Data.Access;
using LinqToDB.Data;

namespace Invisible.Data.Tenancy;

/// <summary>
/// Refreshes the planner's statistics of tables a bulk write changed (migration <c>0011</c>'s
/// <c>refresh_table_statistics</c>, which runs ANALYZE as the tables' owner): without them PostgreSQL plans a freshly
/// loaded table as if it were empty and the lists of a big tenant time out.
/// </summary>
public static class TableStatistics
{
    /// <summary>
    /// Analyses <paramref name="tables"/> in the unit of work, before it commits: ANALYZE samples the transaction's own new
    /// rows, and its statistics become visible with them (a rolled-back write leaves the old ones). It costs a sample of
    /// about 30,000 rows per table, whatever the table's size.
    /// </summary>
    public static Task RefreshAsync(TenantUnitOfWork unitOfWork, IReadOnlyCollection<string> tables, CancellationToken cancellationToken) =>
        // SQL: refresh_table_statistics is a SECURITY DEFINER function that runs ANALYZE.
        unitOfWork.Db.WithCommandTimeout(600, db => db.ExecuteAsync(
            "select refresh_table_statistics(@tables)", new { tables = tables.ToArray() }, cancellationToken));
}
