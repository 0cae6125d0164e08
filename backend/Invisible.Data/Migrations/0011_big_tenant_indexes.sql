-- Big tenants (100,000 invoices and more): indexes for every list, filter and sort the API offers, and a way for the
-- application role to refresh planner statistics after its bulk writes.

-- Invoice lists sort by these columns (then by import order); an index per column lets a page read the first rows in
-- order and, with a keyset token, start at the previous page's last row instead of skipping the ones before it.
create index invoices_by_date on invoices (tenant_id, invoice_date);
create index invoices_by_total on invoices (tenant_id, invoice_total);
create index invoices_by_number on invoices (tenant_id, invoice_number);
-- Filtering by status in import order: the invoices of one status of one import, in file order.
create index invoices_status_in_import on invoices (tenant_id, status, import_id, import_position);
-- Who a vendor's invoices are, for the vendor filter and the vendors' open-exception counts.
create index invoices_vendor on invoices (tenant_id, vendor_id) where vendor_id is not null;

-- The open queue oldest or newest first without sorting it whole.
create index exceptions_open_by_age on exceptions (tenant_id, opened_at, id) where status in ('open', 'in_review');

-- A vendor's aliases (counted on every vendor row of the directory); before this every count read the whole table.
create index vendor_aliases_vendor on vendor_aliases (tenant_id, vendor_id);

-- The application role owns no table and PostgreSQL lets only a table's owner analyse it. Autovacuum's thresholds
-- (50 rows + 10 %) leave a small table such as imports unanalysed for ever, and a freshly loaded one unanalysed until the
-- next autovacuum round, and a planner without statistics picks nested loops over 100,000 rows. This function, owned by
-- the owner role, analyses only tables of this list, named by the caller after a bulk write (ANALYZE reads a bounded
-- sample, about 30,000 rows, whatever the table's size).
create function refresh_table_statistics(p_tables text[])
    returns void language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
declare
    table_name text;
begin
    foreach table_name in array p_tables loop
        if table_name <> all (array['imports', 'import_errors', 'vendors', 'vendor_aliases', 'purchase_orders', 'purchase_order_lines',
                                    'receipts', 'receipt_lines', 'invoices', 'invoice_lines', 'match_decisions', 'line_decisions',
                                    'exceptions', 'audit_log']) then
            raise exception 'refresh_table_statistics: % is not a table whose statistics the application refreshes', table_name
                using errcode = 'insufficient_privilege';
        end if;
        execute format('analyze public.%I', table_name);
    end loop;
end $$;
revoke execute on function refresh_table_statistics(text[]) from public;
grant execute on function refresh_table_statistics(text[]) to invisible_app;

-- Databases that already hold big tenants get statistics now rather than after their next import.
analyze imports, import_errors, vendors, vendor_aliases, purchase_orders, purchase_order_lines, receipts, receipt_lines,
    invoices, invoice_lines, match_decisions, line_decisions, exceptions, audit_log;
