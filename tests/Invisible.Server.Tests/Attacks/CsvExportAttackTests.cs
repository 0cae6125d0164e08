using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Invisible.Contracts.Admin.V1;
using Invisible.Contracts.Audit.V1;
using DownloadErrorsRequest = Invisible.Contracts.Imports.V1.DownloadErrorsRequest;
using DownloadErrorsResponse = Invisible.Contracts.Imports.V1.DownloadErrorsResponse;
using Invisible.Contracts.Matching.V1;
using Invisible.Data.Imports;
using Invisible.Ingestion;
using Invisible.Server.Imports;
using Invisible.Server.Tests.Accounts;
using Invisible.Server.Tests.Exceptions;
using Microsoft.Extensions.DependencyInjection;
using DocumentKind = Invisible.Ingestion.DocumentKind;

namespace Invisible.Server.Tests.Attacks;

/// <summary>
/// The three CSV downloads (results, import errors, audit log) round-tripped with formula payloads: what a supplier or a
/// client put in comes back as text a spreadsheet shows rather than runs — the payload with a leading <c>'</c>.
/// </summary>
[Collection(AccountsCollection.Name)]
public sealed class CsvExportAttackTests(AccountsServer server)
{
    private static readonly string[] Formulas = ["=2+5", "+2+5", "-2+5", "@SUM(2;5)", "=HYPERLINK(\"http://attacker.example\";\"open\")"];

    [Fact]
    public async Task Invoice_numbers_that_are_formulas_come_back_escaped_in_the_results_export()
    {
        var queue = await QueueTenant.CreateAsync(server);
        await queue.ImportAsync(DocumentKind.Invoices, QueueTenant.InvoiceHeader + "\n" + string.Concat(
            Formulas.Select(formula => $"{Quoted(formula)},Acme Supplies,2026-01-12,GBP,,1,,Paper,1,1.00,1.00,1.00\n")));
        await queue.ReconcileAsync();

        var csv = (await queue.MatchingAsync("ExportResults", new ExportResultsRequest())).As<ExportResultsResponse>().Csv.ToStringUtf8();

        var column = Column(csv, "invoice_number");
        Assert.Equal(Formulas.Select(formula => "'" + formula).Order(), column.Order());
    }

    [Fact]
    public async Task Rejected_values_and_a_file_name_that_are_formulas_come_back_escaped_in_the_errors_download()
    {
        var queue = await QueueTenant.CreateAsync(server);
        var content = QueueTenant.InvoiceHeader + "\n" + string.Concat(
            Formulas.Select((formula, index) => $"E-{index},Acme Supplies,2026-01-12,GBP,,1,,Paper,{Quoted(formula)},1.00,1.00,1.00\n"));
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        var outcome = await server.Server.Services.GetRequiredService<ImportService>().ImportAsync(
            queue.Tenant.Id, new ImportRequest(DocumentKind.Invoices, "=cmd.csv", ImportSource.Cli, "tester", null), stream, new ImportOptions(), null,
            CancellationToken.None);

        var download = (await queue.Tenant.CallAsync(Rpcs.Imports("DownloadErrors"), new DownloadErrorsRequest { ImportId = outcome.Record.Id.ToString() },
            await queue.TokenAsync(Identity.Roles.Admin))).As<DownloadErrorsResponse>().Content.ToStringUtf8();

        Assert.Equal(ImportOutcomeKind.Rejected, outcome.Kind);
        var values = Column(download, "value");
        var files = Column(download, "file");
        Assert.Equal(
            (string.Join('|', Formulas.Select(formula => "'" + formula).Order()), true),
            (string.Join('|', values.Where(value => value.Length > 0).Order()), files.All(file => file == "'=cmd.csv")));
    }

    [Fact]
    public async Task A_request_id_a_spreadsheet_would_compute_comes_back_escaped_in_the_audit_export()
    {
        var tenant = await server.NewTenantAsync();
        var token = (await tenant.FullSessionAsync(tenant.Admin)).AccessToken;
        using var raw = new RawGrpc(new Uri(server.Server.Endpoints.Grpc));
        const string requestId = "-2-5";
        var created = await raw.CallAsync(
            Rpcs.Admin("CreateApiKey"), new CreateApiKeyRequest { Name = "=HYPERLINK(\"http://attacker.example\")", Role = Identity.Roles.Clerk }.ToByteArray(),
            token, TimeSpan.FromSeconds(30), new Dictionary<string, string> { ["x-request-id"] = requestId });

        var csv = (await tenant.CallAsync(AuditReflection.Descriptor.Services[0].FindMethodByName("ExportAuditLog"), new ExportAuditLogRequest(), token))
            .As<ExportAuditLogResponse>().Csv.ToStringUtf8();

        Assert.Equal(StatusCode.OK, created.Status);
        Assert.Contains("'" + requestId, Column(csv, "request_id"));
        Assert.DoesNotContain(Rows(csv).SelectMany(row => row), cell => cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r');
    }

    private static string Quoted(string value) => $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static List<string> Column(string csv, string name)
    {
        var rows = Rows(csv);
        var index = rows[0].IndexOf(name);
        Assert.True(index >= 0, $"no column {name} in {string.Join(',', rows[0])}");
        return rows.Skip(1).Where(row => row.Count > index).Select(row => row[index]).ToList();
    }

    /// <summary>RFC 4180 as a spreadsheet reads it: quoted fields may hold commas, quotes (doubled) and line breaks.</summary>
    private static List<List<string>> Rows(string csv)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < csv.Length && csv[i + 1] == '\n')
                {
                    i++;
                }

                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                field.Append(c);
            }
        }

        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }

        return rows;
    }
}
