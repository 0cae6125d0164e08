-- Keying (issue #21): a PDF without invoice data that a clerk keys by hand becomes an import of channel 'keyed' (one
-- import record per keyed invoice, through the same import path as files), linked here to the PDF it was keyed from.
alter table imports drop constraint imports_source_check;
alter table imports add constraint imports_source_check check (source in ('upload', 'api', 'email', 'cli', 'keyed'));

create table keyed_invoices (
    tenant_id   uuid not null references tenants,
    import_id   uuid not null,
    invoice_id  uuid not null,
    message_id  uuid not null,                -- the intake message and attachment (ordinal) the PDF came with
    ordinal     integer not null,
    pdf_blob    text not null,
    due_date    date,                         -- keyed from the PDF; invoices have no column of their own for it
    keyed_by    text not null,
    keyed_at    timestamptz not null default now(),
    primary key (tenant_id, import_id),
    unique (tenant_id, message_id, ordinal),  -- one invoice per to-key item
    foreign key (tenant_id, import_id) references imports (tenant_id, id),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id),
    foreign key (tenant_id, message_id, ordinal) references intake_attachments (tenant_id, message_id, ordinal)
);
create index keyed_invoices_invoice on keyed_invoices (tenant_id, invoice_id);

alter table keyed_invoices enable row level security;
alter table keyed_invoices force row level security;
create policy tenant_isolation on keyed_invoices
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert on keyed_invoices to invisible_app;
