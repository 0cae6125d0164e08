using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Invisible.Data.Access;
using LinqToDB.Data;
using Npgsql;

namespace Invisible.Testing;

/// <summary>linq2db for tests' raw-SQL arranging and assertions.</summary>
public static class TestSql
{
    /// <summary>
    /// A linq2db context on <paramref name="connection"/> (in <paramref name="transaction"/> when given). It never owns the
    /// connection, so a one-off context for one statement may be left to the garbage collector.
    /// </summary>
    public static DataConnection Linq(this NpgsqlConnection connection, NpgsqlTransaction? transaction = null) =>
        ProductData.On(connection, transaction);

    /// <summary>
    /// The rows of <paramref name="sql"/> as <typeparamref name="T"/>: a value tuple takes the columns by position, anything
    /// else by name (as linq2db maps them).
    /// </summary>
    public static Task<List<T>> RowsAsync<T>(this DataConnection db, string sql, object? parameters = null, CancellationToken cancellationToken = default) =>
        typeof(ITuple).IsAssignableFrom(typeof(T)) && typeof(T).IsValueType
            ? db.QueryToListAsync(Positional<T>(), sql, parameters ?? new { }, cancellationToken)
            : db.QueryToListAsync<T>(sql, parameters ?? new { }, cancellationToken);

    private static Func<DbDataReader, T> Positional<T>()
    {
        var types = typeof(T).GetGenericArguments();
        return reader => (T)Activator.CreateInstance(typeof(T), types.Select((type, ordinal) => Read(reader, ordinal, type)).ToArray())!;
    }

    private static object? Read(DbDataReader reader, int ordinal, Type type)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        var target = Nullable.GetUnderlyingType(type) ?? type;
        var value = reader.GetValue(ordinal);
        return target.IsInstanceOfType(value) ? value : Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
    }
}
