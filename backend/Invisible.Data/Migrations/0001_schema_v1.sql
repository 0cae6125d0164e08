-- Schema v1 of Invisible. Runs as the owner role (invisible_owner), which owns every object here.
-- The application role invisible_app must already exist (the provisioner creates it); it owns nothing and gets only the
-- grants below. Tenant isolation: every table with a tenant_id column gets RLS ENABLE + FORCE and the policy
-- tenant_isolation (generated at the end of this file, so no table can be forgotten).
-- Money is numeric(19,4) in the currency of the document header (purchase_orders, invoices, ...), quantities numeric(19,4).

revoke create on schema public from public;
grant usage on schema public to invisible_app;
grant select on schema_migrations to invisible_app;

-- ---------------------------------------------------------------- tenants and identity
create table tenants (
    id               uuid primary key default gen_random_uuid(),
    slug             text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    display_name     text not null check (length(display_name) between 1 and 200),
    default_currency char(3) not null default 'USD' check (default_currency ~ '^[A-Z]{3}$'),
    created_at       timestamptz not null default now()
);

create table users (
    id                   uuid primary key default gen_random_uuid(),
    tenant_id            uuid not null references tenants,
    email                text not null check (position('@' in email) > 1),
    display_name         text not null default '',
    role                 text not null check (role in ('admin', 'approver', 'clerk', 'auditor')),
    password_hash        text,                 -- ASP.NET Core Identity hash; null until the invitation is accepted
    security_stamp       uuid not null default gen_random_uuid(), -- rotated on password/MFA/role change to revoke sessions
    mfa_secret           bytea,                -- TOTP secret, encrypted by the application; opaque here
    mfa_enabled_at       timestamptz,
    recovery_code_hashes text[] not null default '{}',
    failed_sign_in_count integer not null default 0 check (failed_sign_in_count >= 0),
    locked_until         timestamptz,
    last_sign_in_at      timestamptz,
    disabled_at          timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    unique (tenant_id, id)
);
create unique index users_email_per_tenant on users (tenant_id, lower(email));
create index users_email on users (lower(email));

create table refresh_tokens (
    id          uuid primary key default gen_random_uuid(),
    tenant_id   uuid not null references tenants,
    user_id     uuid not null,
    family_id   uuid not null,                 -- all rotations of one sign-in; reuse of a rotated token revokes the family
    token_hash  bytea not null unique check (length(token_hash) = 32),
    issued_at   timestamptz not null default now(),
    expires_at  timestamptz not null,
    revoked_at  timestamptz,
    replaced_by uuid,
    foreign key (tenant_id, user_id) references users (tenant_id, id)
);
create index refresh_tokens_family on refresh_tokens (tenant_id, family_id);

create table api_keys (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null references tenants,
    name         text not null,
    key_prefix   text not null,                -- first characters of the key, shown in the UI to tell keys apart
    key_hash     bytea not null unique check (length(key_hash) = 32),
    role         text not null check (role in ('admin', 'approver', 'clerk', 'auditor')),
    created_by   uuid,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    foreign key (tenant_id, created_by) references users (tenant_id, id)
);

create table invitations (
    id          uuid primary key default gen_random_uuid(),
    tenant_id   uuid not null references tenants,
    email       text not null,
    role        text not null check (role in ('admin', 'approver', 'clerk', 'auditor')),
    token_hash  bytea not null unique check (length(token_hash) = 32),
    invited_by  uuid,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    foreign key (tenant_id, invited_by) references users (tenant_id, id)
);

-- ---------------------------------------------------------------- imports
create table imports (
    id             uuid primary key default gen_random_uuid(),
    import_no      bigint generated always as identity unique, -- global arrival order; results list rows in import order
    tenant_id      uuid not null references tenants,
    kind           text not null check (kind in ('vendors', 'purchase_orders', 'receipts', 'invoices')),
    file_name      text not null,
    content_sha256 bytea not null check (length(content_sha256) = 32),
    source         text not null default 'upload' check (source in ('upload', 'api', 'email', 'cli')),
    status         text not null default 'received' check (status in ('received', 'processing', 'stored', 'rejected', 'failed')),
    row_count      integer not null default 0,
    stored_count   integer not null default 0,
    error_count    integer not null default 0,
    warning_count  integer not null default 0,
    uploaded_by    text,
    received_at    timestamptz not null default now(),
    completed_at   timestamptz,
    unique (tenant_id, kind, content_sha256), -- re-importing the same file is a no-op
    unique (tenant_id, id)
);

create table import_errors (
    id          uuid primary key default gen_random_uuid(),
    tenant_id   uuid not null references tenants,
    import_id   uuid not null,
    line        integer,                      -- 1-based file line (the header is line 1); null for file-level problems
    column_name text,
    value       text,
    reason      text not null,
    severity    text not null default 'error' check (severity in ('error', 'warning')),
    foreign key (tenant_id, import_id) references imports (tenant_id, id) on delete cascade
);
create index import_errors_import on import_errors (tenant_id, import_id, line);

-- ---------------------------------------------------------------- vendors
create table vendors (
    id            uuid primary key default gen_random_uuid(),
    tenant_id     uuid not null references tenants,
    vendor_code   text not null,
    name          text not null,
    tax_id        text,
    email         text,
    country       char(2) check (country ~ '^[A-Z]{2}$'),
    currency      char(3) check (currency ~ '^[A-Z]{3}$'),
    payment_terms text,
    import_id     uuid,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    unique (tenant_id, vendor_code),
    unique (tenant_id, id),
    foreign key (tenant_id, import_id) references imports (tenant_id, id)
);

-- Names and tax ids a vendor has been seen under (learned from imports and reviewers), for vendor resolution.
create table vendor_aliases (
    id               uuid primary key default gen_random_uuid(),
    tenant_id        uuid not null references tenants,
    vendor_id        uuid not null,
    kind             text not null check (kind in ('name', 'tax_id')),
    value            text not null,           -- as printed
    normalized_value text not null,
    source           text not null check (source in ('master', 'import', 'reviewer', 'model')),
    created_by       text,
    created_at       timestamptz not null default now(),
    unique (tenant_id, kind, normalized_value),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id) on delete cascade
);

-- ---------------------------------------------------------------- purchase orders and receipts
create table purchase_orders (
    id                   uuid primary key default gen_random_uuid(),
    tenant_id            uuid not null references tenants,
    po_number            text not null,
    po_number_normalized text not null,        -- letters/digits, upper case, without a leading PO and leading zeros
    version              integer not null default 1 check (version >= 1), -- a re-imported, changed PO is a new version
    superseded_at        timestamptz,          -- set when a newer version replaces this one
    vendor_id            uuid not null,
    order_date           date not null,
    currency             char(3) not null check (currency ~ '^[A-Z]{3}$'),
    status               text not null default 'open' check (status in ('open', 'closed', 'cancelled')),
    import_id            uuid,
    created_at           timestamptz not null default now(),
    unique (tenant_id, po_number, version),
    unique (tenant_id, id),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id),
    foreign key (tenant_id, import_id) references imports (tenant_id, id)
);
create unique index purchase_orders_current on purchase_orders (tenant_id, po_number) where superseded_at is null;
create index purchase_orders_normalized on purchase_orders (tenant_id, po_number_normalized) where superseded_at is null;
create index purchase_orders_vendor on purchase_orders (tenant_id, vendor_id) where superseded_at is null;

create table purchase_order_lines (
    id                uuid primary key default gen_random_uuid(),
    tenant_id         uuid not null references tenants,
    purchase_order_id uuid not null,
    line_no           integer not null check (line_no >= 1),
    sku               text,
    description       text not null,
    quantity          numeric(19,4) not null check (quantity > 0),
    unit_price        numeric(19,4) not null check (unit_price >= 0), -- in purchase_orders.currency
    receipt_required  boolean not null default true,                  -- false: 2-way match (services)
    source_line       integer,
    unique (tenant_id, purchase_order_id, line_no),
    unique (tenant_id, id),
    foreign key (tenant_id, purchase_order_id) references purchase_orders (tenant_id, id) on delete cascade
);

create table receipts (
    id             uuid primary key default gen_random_uuid(),
    tenant_id      uuid not null references tenants,
    receipt_number text not null,
    import_id      uuid,
    created_at     timestamptz not null default now(),
    unique (tenant_id, receipt_number),
    unique (tenant_id, id),
    foreign key (tenant_id, import_id) references imports (tenant_id, id)
);

create table receipt_lines (
    id                     uuid primary key default gen_random_uuid(),
    tenant_id              uuid not null references tenants,
    receipt_id             uuid not null,
    po_number              text not null,
    po_line_no             integer not null check (po_line_no >= 1),
    purchase_order_line_id uuid,              -- resolved PO line
    received_date          date not null,
    quantity_received      numeric(19,4) not null check (quantity_received > 0),
    source_line            integer,
    unique (tenant_id, receipt_id, po_number, po_line_no), -- natural key: receipt_number + po_number + po_line_no
    foreign key (tenant_id, receipt_id) references receipts (tenant_id, id) on delete cascade,
    foreign key (tenant_id, purchase_order_line_id) references purchase_order_lines (tenant_id, id)
);
create index receipt_lines_po_line on receipt_lines (tenant_id, purchase_order_line_id);

-- ---------------------------------------------------------------- invoices
create table invoices (
    id                        uuid primary key default gen_random_uuid(),
    tenant_id                 uuid not null references tenants,
    import_id                 uuid not null,
    import_position           integer not null check (import_position >= 1), -- order of the invoice within its file
    invoice_number            text not null,  -- as printed
    invoice_number_normalized text not null,
    printed_vendor_name       text not null,
    printed_vendor_tax_id     text,
    printed_po_number         text,
    vendor_id                 uuid,           -- resolved master vendor
    purchase_order_id         uuid,           -- referenced or inferred PO
    invoice_date              date not null,
    currency                  char(3) not null check (currency ~ '^[A-Z]{3}$'),
    invoice_total             numeric(19,4) not null,
    status                    text not null default 'pending'
        check (status in ('pending', 'matched', 'awaiting_receipt', 'exception', 'no_po', 'duplicate', 'approved', 'rejected')),
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now(),
    unique (tenant_id, import_id, import_position),
    unique (tenant_id, id),
    foreign key (tenant_id, import_id) references imports (tenant_id, id),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id),
    foreign key (tenant_id, purchase_order_id) references purchase_orders (tenant_id, id)
);
create index invoices_vendor_number on invoices (tenant_id, vendor_id, invoice_number_normalized);
create index invoices_status on invoices (tenant_id, status);

create table invoice_lines (
    id          uuid primary key default gen_random_uuid(),
    tenant_id   uuid not null references tenants,
    invoice_id  uuid not null,
    line_no     integer not null,
    sku         text,
    description text not null,
    quantity    numeric(19,4) not null,
    unit_price  numeric(19,4) not null,        -- in invoices.currency
    line_amount numeric(19,4) not null,
    tax_amount  numeric(19,4) not null default 0,
    source_line integer not null check (source_line >= 2), -- line of this row in the imported file (header = 1)
    unique (tenant_id, invoice_id, source_line),
    unique (tenant_id, id),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id) on delete cascade
);

-- ---------------------------------------------------------------- matching
-- Tolerances are versioned: a change adds a version, decisions reference the version they used.
create table tolerances (
    id                         uuid primary key default gen_random_uuid(),
    tenant_id                  uuid not null references tenants,
    vendor_id                  uuid,          -- null: the tenant default; else a per-vendor override
    version                    integer not null check (version >= 1),
    price_tolerance_percent    numeric(7,4) not null check (price_tolerance_percent >= 0),
    quantity_tolerance_percent numeric(7,4) not null check (quantity_tolerance_percent >= 0),
    total_tolerance            numeric(19,4) not null check (total_tolerance >= 0), -- absolute, in the invoice's currency
    created_by                 text,
    created_at                 timestamptz not null default now(),
    unique nulls not distinct (tenant_id, vendor_id, version),
    unique (tenant_id, id),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id)
);

-- Append-only: re-matching adds a decision; the latest per invoice is current.
create table match_decisions (
    id                uuid primary key default gen_random_uuid(),
    tenant_id         uuid not null references tenants,
    invoice_id        uuid not null,
    run_id            uuid not null,           -- one reconcile run decides many invoices
    decided_at        timestamptz not null default now(),
    decided_by        text not null default 'engine', -- 'engine' or the reviewing user's id
    engine_version    text not null,
    invoice_status    text not null
        check (invoice_status in ('matched', 'awaiting_receipt', 'exception', 'no_po', 'duplicate', 'approved', 'rejected')),
    vendor_id         uuid,
    purchase_order_id uuid,
    duplicate_of      uuid,
    tolerance_id      uuid not null,           -- the tolerance version applied
    explanation       jsonb not null,
    evidence          jsonb not null,          -- snapshot of the documents the decision was based on
    unique (tenant_id, id),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id),
    foreign key (tenant_id, vendor_id) references vendors (tenant_id, id),
    foreign key (tenant_id, purchase_order_id) references purchase_orders (tenant_id, id),
    foreign key (tenant_id, duplicate_of) references invoices (tenant_id, id),
    foreign key (tenant_id, tolerance_id) references tolerances (tenant_id, id)
);
create index match_decisions_invoice on match_decisions (tenant_id, invoice_id, decided_at desc);

create table line_decisions (
    id                     uuid primary key default gen_random_uuid(),
    tenant_id              uuid not null references tenants,
    match_decision_id      uuid not null,
    invoice_line_id        uuid not null,
    purchase_order_line_id uuid,
    line_status            text not null
        check (line_status in ('matched', 'within_tolerance', 'price_variance', 'quantity_variance', 'not_received', 'unmatched')),
    explanation            jsonb not null,
    unique (tenant_id, match_decision_id, invoice_line_id),
    foreign key (tenant_id, match_decision_id) references match_decisions (tenant_id, id),
    foreign key (tenant_id, invoice_line_id) references invoice_lines (tenant_id, id),
    foreign key (tenant_id, purchase_order_line_id) references purchase_order_lines (tenant_id, id)
);

create table exceptions (
    id                uuid primary key default gen_random_uuid(),
    tenant_id         uuid not null references tenants,
    invoice_id        uuid not null,
    match_decision_id uuid not null,
    reason            text not null,           -- machine-readable, e.g. price_variance, quantity_variance, unmatched, totals
    status            text not null default 'open' check (status in ('open', 'in_review', 'resolved', 'dismissed')),
    assignee_id       uuid,
    opened_at         timestamptz not null default now(),
    resolved_at       timestamptz,
    resolved_by       uuid,
    resolution_note   text,
    updated_at        timestamptz not null default now(),
    foreign key (tenant_id, invoice_id) references invoices (tenant_id, id),
    foreign key (tenant_id, match_decision_id) references match_decisions (tenant_id, id),
    foreign key (tenant_id, assignee_id) references users (tenant_id, id),
    foreign key (tenant_id, resolved_by) references users (tenant_id, id)
);
create index exceptions_open on exceptions (tenant_id, status, opened_at) where status in ('open', 'in_review');

create table similarity_models (
    id                uuid primary key default gen_random_uuid(),
    tenant_id         uuid not null references tenants,
    kind              text not null check (kind in ('vendor_name', 'description', 'po_inference')),
    version           integer not null check (version >= 1),
    weights           jsonb not null,          -- feature name -> weight, plus the intercept
    metrics           jsonb not null default '{}',
    training_examples integer not null default 0,
    trained_at        timestamptz not null default now(),
    is_active         boolean not null default false,
    unique (tenant_id, kind, version)
);
create unique index similarity_models_active on similarity_models (tenant_id, kind) where is_active;

-- ---------------------------------------------------------------- audit (hash-chained per tenant, append-only)
create table audit_log (
    tenant_id   uuid not null references tenants,
    seq         bigint not null,               -- 1, 2, 3 ... per tenant, assigned by audit_log_chain()
    occurred_at timestamptz not null default now(),
    actor       text not null,
    action      text not null,
    entity      text not null,
    entity_id   text,
    before      jsonb,
    after       jsonb,
    request_id  text,
    prev_hash   bytea not null,
    hash        bytea not null,
    primary key (tenant_id, seq)
);

-- The canonical form of an entry: a JSON array of every field (timestamps as epoch microseconds, so the session time zone
-- cannot change it), hashed with SHA-256 together with the previous entry's hash.
create function audit_entry_hash(
    prev_hash bytea, tenant_id uuid, seq bigint, occurred_at timestamptz, actor text, action text, entity text,
    entity_id text, before jsonb, after jsonb, request_id text) returns bytea
    language sql stable parallel safe as $$
    select sha256(convert_to(jsonb_build_array(
        encode(prev_hash, 'hex'), tenant_id, seq, floor(extract(epoch from occurred_at) * 1000000)::bigint,
        actor, action, entity, entity_id, before, after, request_id)::text, 'UTF8'))
$$;

create function audit_log_chain() returns trigger language plpgsql as $$
declare
    previous record;
begin
    -- Serialise appends per tenant so two concurrent transactions cannot both chain onto the same predecessor.
    -- Under READ COMMITTED the query below runs after the lock with a fresh snapshot, so it sees the winner's row.
    perform pg_advisory_xact_lock(hashtextextended('invisible.audit_log:' || new.tenant_id::text, 0));
    select a.seq, a.hash into previous from audit_log a where a.tenant_id = new.tenant_id order by a.seq desc limit 1;
    new.seq := coalesce(previous.seq, 0) + 1;
    new.prev_hash := coalesce(previous.hash, decode(repeat('00', 32), 'hex'));
    new.occurred_at := now();
    new.hash := audit_entry_hash(new.prev_hash, new.tenant_id, new.seq, new.occurred_at, new.actor, new.action, new.entity,
                                 new.entity_id, new.before, new.after, new.request_id);
    return new;
end $$;

create trigger audit_log_chain before insert on audit_log for each row execute function audit_log_chain();

create function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;

create trigger audit_log_no_update_or_delete before update or delete on audit_log
    for each row execute function audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_refuse_change();

-- ---------------------------------------------------------------- messaging (embedded mode) and state store
create table outbox (
    id           uuid primary key,             -- the event id (CloudEvents id), chosen by the producer
    position     bigint generated always as identity unique,
    tenant_id    uuid not null references tenants,
    topic        text not null,
    event_type   text not null,
    payload      jsonb not null,
    occurred_at  timestamptz not null default now(),
    available_at timestamptz not null default now(), -- next delivery attempt (back-off after failures)
    attempts     integer not null default 0,
    last_error   text,
    published_at timestamptz,
    trace_parent text                          -- W3C traceparent of the producing request
);
create index outbox_pending on outbox (available_at, position) where published_at is null;

create function outbox_notify() returns trigger language plpgsql as $$
begin
    -- Wakes the dispatcher (LISTEN invisible_outbox) with the tenant whose outbox has news; identical payloads in one
    -- transaction are delivered once.
    perform pg_notify('invisible_outbox', new.tenant_id::text);
    return null;
end $$;

create trigger outbox_notify after insert on outbox for each row execute function outbox_notify();

create table outbox_dead_letters (
    id               uuid primary key,
    tenant_id        uuid not null references tenants,
    topic            text not null,
    event_type       text not null,
    payload          jsonb not null,
    occurred_at      timestamptz not null,
    attempts         integer not null,
    last_error       text,
    dead_lettered_at timestamptz not null default now()
);

create table inbox (
    tenant_id    uuid not null references tenants,
    consumer     text not null,
    event_id     uuid not null,
    processed_at timestamptz not null default now(),
    primary key (tenant_id, consumer, event_id)
);

-- The embedded state store (idempotency keys, upload sessions, caches), mirroring a Dapr state store: not tenant-owned,
-- callers put the tenant into the key where it matters.
create table state_entries (
    key        text primary key,
    value      jsonb not null,
    etag       uuid not null default gen_random_uuid(),
    expires_at timestamptz,
    updated_at timestamptz not null default now()
);
create index state_entries_expiry on state_entries (expires_at) where expires_at is not null;

-- ---------------------------------------------------------------- row-level security
-- Every table with a tenant_id: only the current tenant's rows, for every role including the owner (FORCE).
-- nullif: once a session has set app.tenant_id, later transactions see '' rather than null, which must mean "no tenant".
do $$
declare
    tenant_table regclass;
begin
    for tenant_table in
        select c.oid::regclass
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where n.nspname = 'public' and c.relkind in ('r', 'p')
    loop
        execute format('alter table %s enable row level security', tenant_table);
        execute format('alter table %s force row level security', tenant_table);
        execute format(
            'create policy tenant_isolation on %s using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', tenant_table);
    end loop;
end $$;

alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenant_isolation on tenants
    using (id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (id = nullif(current_setting('app.tenant_id', true), '')::uuid);

-- Pre-authentication lookups cross the tenant boundary. They run as SECURITY DEFINER functions owned by this (owner) role,
-- which FORCE subjects to RLS too; these SELECT-only policies let exactly those functions read the few tables they search.
create policy directory_lookup on tenants for select to current_user using (true);
create policy directory_lookup on users for select to current_user using (true);
create policy directory_lookup on api_keys for select to current_user using (true);
create policy directory_lookup on refresh_tokens for select to current_user using (true);
create policy directory_lookup on invitations for select to current_user using (true);
create policy directory_lookup on outbox for select to current_user using (true);

-- ---------------------------------------------------------------- cross-tenant functions (SECURITY DEFINER, narrow)
-- Each answers only "which tenant (and row) is this?"; everything else is read afterwards in a tenant unit of work.
create function tenant_directory_create(p_slug text, p_display_name text, p_default_currency char(3))
    returns uuid language plpgsql security definer set search_path = pg_catalog, public, pg_temp as $$
declare
    new_tenant uuid := gen_random_uuid();
    caller_tenant text := current_setting('app.tenant_id', true);
begin
    -- Act as the new tenant for its first rows (the tenant row and its default tolerances), then restore the caller's tenant.
    perform set_config('app.tenant_id', new_tenant::text, true);
    insert into tenants (id, slug, display_name, default_currency) values (new_tenant, p_slug, p_display_name, p_default_currency);
    -- FORMATS.md default tolerances: unit price ±2 %, quantity 0 %, invoice total ±0.05.
    insert into tolerances (tenant_id, vendor_id, version, price_tolerance_percent, quantity_tolerance_percent, total_tolerance, created_by)
    values (new_tenant, null, 1, 2, 0, 0.05, 'system');
    perform set_config('app.tenant_id', coalesce(caller_tenant, ''), true);
    return new_tenant;
end $$;

create function tenant_directory_find(p_slug text)
    returns table (id uuid, slug text, display_name text, default_currency char(3))
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select t.id, t.slug, t.display_name, t.default_currency from tenants t where t.slug = p_slug
$$;

create function tenant_directory_list()
    returns table (id uuid, slug text, display_name text, default_currency char(3))
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select t.id, t.slug, t.display_name, t.default_currency from tenants t order by t.slug
$$;

-- Sign-in by e-mail: the same address may exist in several tenants, so this returns every (tenant, user) pair.
create function auth_find_users_by_email(p_email text)
    returns table (tenant_id uuid, user_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select u.tenant_id, u.id from users u where lower(u.email) = lower(p_email) and u.disabled_at is null
$$;

create function auth_find_api_key(p_key_hash bytea)
    returns table (tenant_id uuid, api_key_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select k.tenant_id, k.id from api_keys k where k.key_hash = p_key_hash
$$;

create function auth_find_refresh_token(p_token_hash bytea)
    returns table (tenant_id uuid, refresh_token_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select r.tenant_id, r.id from refresh_tokens r where r.token_hash = p_token_hash
$$;

create function auth_find_invitation(p_token_hash bytea)
    returns table (tenant_id uuid, invitation_id uuid)
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select i.tenant_id, i.id from invitations i where i.token_hash = p_token_hash
$$;

-- The embedded dispatcher's start-up catch-up: which tenants have undelivered events.
create function outbox_tenants_with_pending()
    returns setof uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select distinct o.tenant_id from outbox o where o.published_at is null
$$;

revoke execute on function tenant_directory_create(text, text, char), tenant_directory_find(text), tenant_directory_list(),
    auth_find_users_by_email(text), auth_find_api_key(bytea), auth_find_refresh_token(bytea), auth_find_invitation(bytea),
    outbox_tenants_with_pending() from public;
grant execute on function tenant_directory_create(text, text, char), tenant_directory_find(text), tenant_directory_list(),
    auth_find_users_by_email(text), auth_find_api_key(bytea), auth_find_refresh_token(bytea), auth_find_invitation(bytea),
    outbox_tenants_with_pending() to invisible_app;

-- ---------------------------------------------------------------- grants for the application role
grant select, update (display_name, default_currency) on tenants to invisible_app;
grant select, insert, update on users, api_keys, imports, exceptions, similarity_models to invisible_app;
grant select, insert, update, delete on refresh_tokens, invitations, vendors, vendor_aliases, purchase_orders,
    purchase_order_lines, receipts, receipt_lines, invoices, invoice_lines, outbox, state_entries to invisible_app;
grant select, insert, delete on import_errors, outbox_dead_letters, inbox to invisible_app;
-- Append-only history: decisions, tolerance versions and the audit log are never changed by the application.
grant select, insert on tolerances, match_decisions, line_decisions, audit_log to invisible_app;
grant usage on all sequences in schema public to invisible_app;
