-- Imports, part 2: re-import semantics and the history listing.

-- Only a STORED file makes an identical re-import a no-op. A rejected file must be importable again once its problem is
-- fixed elsewhere (e.g. receipts rejected for an unknown PO, imported again after the PO file), so its record may repeat.
alter table imports drop constraint imports_tenant_id_kind_content_sha256_key;
create unique index imports_stored_content on imports (tenant_id, kind, content_sha256) where status = 'stored';
create index imports_history on imports (tenant_id, import_no desc);
