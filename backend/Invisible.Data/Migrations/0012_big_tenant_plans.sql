-- Big tenants, part 2: indexes that let the remaining list and dashboard reads go by index-only scans.

-- Invoice ids per status (replaces invoices_status, which this extends): the dashboard's counts by status and its
-- touchless count (matched ids anti-joined with the queue) read the index alone.
create index invoices_status_ids on invoices (tenant_id, status, id);
drop index invoices_status;

-- The open queue's invoices: the vendors' open-exception counts probe it without reading exception rows.
create index exceptions_open_invoice on exceptions (tenant_id, invoice_id) where status in ('open', 'in_review');

-- A vendor's invoice ids, for the vendors' open-exception counts (replaces invoices_vendor, which this extends).
create index invoices_vendor_ids on invoices (tenant_id, vendor_id, id) where vendor_id is not null;
drop index invoices_vendor;

-- Amount and currency by invoice id: the queue's amount filter count and the dashboard's amount held join the open queue
-- to its invoices by index-only probes instead of a sequential scan of every invoice (which also evaluates the row-level
-- security qual on each row; numeric comparisons are not leakproof, so the amount cannot be an index condition under RLS).
create index invoices_amounts on invoices (tenant_id, id) include (invoice_total, currency);
