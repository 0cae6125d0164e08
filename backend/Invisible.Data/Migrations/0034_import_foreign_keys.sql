-- Imports near COPY speed (issue #26). PostgreSQL checks a foreign key with one query per inserted row; measured with
-- auto_explain on a 10,000-invoice tenant, those checks were 40 to 55 % of every import's merge. The checks dropped here
-- are implied by another one on the same row: the row's not-null composite key (tenant_id, parent_id) must find a parent
-- with that very tenant_id, and that parent's own tenant_id references tenants, so the row's tenant exists whenever its
-- parent does, and a tenant cannot be deleted while the parent still references it. Integrity is unchanged; each row of
-- these five tables costs one look-up (and one row lock on tenants) less.
alter table invoice_lines drop constraint invoice_lines_tenant_id_fkey;             -- (tenant_id, invoice_id) -> invoices
alter table invoices drop constraint invoices_tenant_id_fkey;                       -- (tenant_id, import_id) -> imports
alter table purchase_order_lines drop constraint purchase_order_lines_tenant_id_fkey; -- (tenant_id, purchase_order_id) -> purchase_orders
alter table purchase_orders drop constraint purchase_orders_tenant_id_fkey;         -- (tenant_id, vendor_id) -> vendors
alter table receipt_lines drop constraint receipt_lines_tenant_id_fkey;             -- (tenant_id, receipt_id) -> receipts
