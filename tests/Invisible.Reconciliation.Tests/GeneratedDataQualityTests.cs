using Invisible.Reconciliation.Matching;
using Invisible.Reconciliation.Tests.Support;
using Invisible.SampleData;
using Xunit.Abstractions;

namespace Invisible.Reconciliation.Tests;

public class GeneratedDataQualityTests(ITestOutputHelper output)
{
    [Fact]
    public void On_two_thousand_generated_invoices_auto_matching_is_precise_and_finds_nearly_every_clean_invoice()
    {
        var tenant = new TenantDataGenerator(seed: 42).Generate(new GeneratorOptions { Invoices = 2_000 });

        var report = QualityReport.Compute(ReconciliationEngine.Reconcile(tenant.Snapshot, Tolerances.Default), tenant.Truth);

        output.WriteLine(report.ToText());
        Assert.True(report.AutoMatchPrecision >= 0.995, report.ToText());
        Assert.True(report.AutoMatchRecall >= 0.97, report.ToText());
        Assert.True(report.VendorResolutionAccuracy >= 0.99, report.ToText());
        Assert.True(report.DuplicatePrecision >= 0.99 && report.DuplicateRecall >= 0.95, report.ToText());
    }

    [Fact]
    public void The_same_seed_generates_the_same_tenant_and_another_seed_a_different_one()
    {
        var options = new GeneratorOptions { Invoices = 200 };

        var first = new TenantDataGenerator(7).Generate(options);
        var again = new TenantDataGenerator(7).Generate(options);
        var other = new TenantDataGenerator(8).Generate(options);

        Assert.Equal(Describe(first), Describe(again));
        Assert.NotEqual(Describe(first), Describe(other));
    }

    [Fact]
    public async Task Generated_CSV_files_read_back_reconcile_exactly_like_the_generated_documents()
    {
        var tenant = new TenantDataGenerator(3).Generate(new GeneratorOptions { Invoices = 300 });
        var directory = Directory.CreateTempSubdirectory("invisible-generated-").FullName;
        try
        {
            await CanonicalCsvWriter.WriteAsync(tenant, directory, CancellationToken.None);

            var fromFiles = ResultsExport.Rows(ReconciliationEngine.Reconcile(CanonicalCsv.ReadSnapshot(directory), Tolerances.Default));
            var inMemory = ResultsExport.Rows(ReconciliationEngine.Reconcile(tenant.Snapshot, Tolerances.Default));

            Assert.Equal(inMemory, fromFiles);
            Assert.True(File.Exists(Path.Combine(directory, CanonicalCsvWriter.TruthFileName)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Generated_data_shows_every_supplier_habit_the_matching_issue_names()
    {
        var tenant = new TenantDataGenerator(5).Generate(new GeneratorOptions { Invoices = 2_000 });
        var snapshot = tenant.Snapshot;
        var masterNames = snapshot.Vendors.Select(vendor => vendor.Name).ToHashSet();
        var references = snapshot.Invoices.Select(invoice => invoice.PrintedPoReference).ToList();

        Assert.Contains(snapshot.Invoices, invoice => !masterNames.Contains(invoice.PrintedVendorName));
        Assert.Contains(references, reference => reference is null);
        foreach (var format in new[] { @"^PO\d+$", @"^\d+$", @"^PO #\d+$", @"^po-\d+$", @"^PO-\d+$" })
        {
            Assert.Contains(references, reference => reference is not null && System.Text.RegularExpressions.Regex.IsMatch(reference, format));
        }

        Assert.Contains(snapshot.Invoices.SelectMany(invoice => invoice.Lines), line => line.Sku is null);
        Assert.Contains(snapshot.PurchaseOrders.SelectMany(po => po.Lines), line => !line.ReceiptRequired);
        Assert.Contains(snapshot.Invoices, invoice => invoice.InvoiceNumber.StartsWith("INV", StringComparison.Ordinal) &&
            tenant.Truth.Single(truth => truth.InvoiceId == invoice.Id).DuplicateOfInvoiceId is not null);
        var receivedByLine = snapshot.Receipts.GroupBy(receipt => (receipt.PoNumber, receipt.PoLineNo)).ToDictionary(group => group.Key, group => group.Sum(r => r.QuantityReceived));
        Assert.Contains(snapshot.PurchaseOrders, po => po.Lines.Any(line => receivedByLine.GetValueOrDefault((po.PoNumber, line.LineNo)) is > 0 and var received && received < line.Quantity));
    }

    private static string Describe(GeneratedTenant tenant) =>
        string.Join('\n', tenant.Snapshot.Invoices.SelectMany(invoice => invoice.Lines.Select(line =>
            $"{invoice.InvoiceNumber}|{invoice.PrintedVendorName}|{invoice.PrintedPoReference}|{invoice.InvoiceDate}|{line.Sku}|{line.Quantity}|{line.UnitPrice}")));
}
