-- Imports, part 3: the uploaded file is kept, and a tenant's own column headers can be mapped once and reused.

-- Where the uploaded file is kept in the blob store: a prefix under which its chunks are named by byte offset (a large
-- file is written in chunks so that memory stays flat). Null for files imported before this migration.
alter table imports add column content_blob text;

-- A tenant's saved column mapping per kind of file: its own header (as normalised by the importer: case, spaces and
-- punctuation ignored) mapped to a canonical column of FORMATS.md section 1. Later imports of that kind use it.
create table import_column_mappings (
    tenant_id        uuid not null references tenants,
    kind             text not null check (kind in ('vendors', 'purchase_orders', 'receipts', 'invoices')),
    source_header    text not null check (length(source_header) between 1 and 200),
    canonical_column text not null check (canonical_column ~ '^[a-z_]{1,40}$'),
    updated_by       text,
    updated_at       timestamptz not null default now(),
    primary key (tenant_id, kind, source_header)
);
alter table import_column_mappings enable row level security;
alter table import_column_mappings force row level security;
create policy tenant_isolation on import_column_mappings
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on import_column_mappings to invisible_app;
