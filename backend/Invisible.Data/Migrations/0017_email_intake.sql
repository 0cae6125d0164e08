-- E-mail intake (issue #21): the addresses a tenant receives invoices at, the senders it trusts beyond its users and
-- vendors, every message received with what became of each attachment, and the mailbox it may poll.

-- Aliases an admin adds beside <slug>@<intake domain>. An address leads to one tenant only, so it is unique across tenants.
create table intake_addresses (
    address    text primary key check (address ~ '^[^@\s]+@[^@\s]+$' and address = lower(address)),
    tenant_id  uuid not null references tenants,
    created_by text not null,
    created_at timestamptz not null default now()
);
create index intake_addresses_tenant on intake_addresses (tenant_id);

-- Senders processed without a vendor or user behind them: a full address, or @domain for a whole domain.
create table intake_allowlist (
    tenant_id  uuid not null references tenants,
    entry      text not null check (entry ~ '^[^@\s]*@[^@\s]+$' and entry = lower(entry)),
    created_by text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, entry)
);

-- Every message received, whatever became of it: nothing is dropped silently.
create table intake_messages (
    id             uuid primary key default gen_random_uuid(),
    tenant_id      uuid not null references tenants,
    message_no     bigint generated always as identity,
    source         text not null check (source in ('smtp', 'imap')),
    message_id     text check (length(message_id) <= 998),
    content_sha256 text not null check (content_sha256 ~ '^[0-9a-f]{64}$'),
    from_address   text not null,
    to_addresses   text[] not null default '{}',
    subject        text not null default '',
    received_at    timestamptz not null default now(),
    size_bytes     bigint not null check (size_bytes >= 0),
    status         text not null check (status in ('processing', 'processed', 'held', 'released', 'discarded', 'duplicate')),
    trust          text not null default '',
    duplicate_of   uuid,
    eml_blob       text,
    decided_by     text,
    decided_at     timestamptz,
    unique (tenant_id, id)
);
create index intake_messages_recent on intake_messages (tenant_id, message_no desc);
create index intake_messages_message_id on intake_messages (tenant_id, message_id) where message_id is not null;
create index intake_messages_content on intake_messages (tenant_id, content_sha256);

-- Each attachment of a message and its outcome; a to_key PDF is kept (pdf_blob) until a person keys it.
create table intake_attachments (
    tenant_id     uuid not null references tenants,
    message_id    uuid not null,
    ordinal       integer not null check (ordinal >= 0),
    path          text not null,
    file_name     text not null,
    content_type  text not null,
    size_bytes    bigint not null check (size_bytes >= 0),
    outcome       text not null check (outcome in ('imported', 'duplicate', 'rejected', 'held', 'to_key', 'keyed', 'ignored', 'unreadable', 'discarded')),
    import_id     uuid,
    import_no     bigint,
    note          text,
    pdf_blob      text,
    keyed_by      text,
    keyed_at      timestamptz,
    primary key (tenant_id, message_id, ordinal),
    foreign key (tenant_id, message_id) references intake_messages (tenant_id, id) on delete cascade
);
create index intake_attachments_to_key on intake_attachments (tenant_id) where outcome = 'to_key';

-- The IMAP mailbox a tenant's admin connected; its password is in the secret store under secret_name, never here.
-- uid_validity and last_uid make polling restart-safe: a message is moved out of the inbox only after it is recorded.
create table intake_mailboxes (
    tenant_id        uuid primary key references tenants,
    host             text not null,
    port             integer not null check (port between 1 and 65535),
    tls              text not null check (tls in ('none', 'starttls', 'implicit')),
    username         text not null,
    secret_name      text not null,
    processed_folder text not null default 'Processed',
    failed_folder    text not null default 'Failed',
    uid_validity     bigint,
    last_uid         bigint not null default 0,
    last_polled_at   timestamptz,
    last_error       text,
    updated_by       text not null,
    updated_at       timestamptz not null default now()
);

do $$
declare
    intake_table regclass;
begin
    foreach intake_table in array array['intake_addresses', 'intake_allowlist', 'intake_messages', 'intake_attachments', 'intake_mailboxes']::regclass[]
    loop
        execute format('alter table %s enable row level security', intake_table);
        execute format('alter table %s force row level security', intake_table);
        execute format(
            'create policy tenant_isolation on %s using (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) '
            'with check (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)', intake_table);
        execute format('grant select, insert, update, delete on %s to invisible_app', intake_table);
    end loop;
end $$;

-- The SMTP listener learns the tenant of a recipient before any tenant is set (at RCPT TO): the one cross-tenant question
-- it may ask, answered by this function like the sign-in lookups of 0001. Mailboxes to poll are listed the same way.
create policy directory_lookup on intake_addresses for select to current_user using (true);
create policy directory_lookup on intake_mailboxes for select to current_user using (true);

create function intake_find_tenant(p_address text)
    returns uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select a.tenant_id from intake_addresses a where a.address = lower(p_address)
$$;

create function intake_tenants_with_mailbox()
    returns setof uuid
    language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
    select m.tenant_id from intake_mailboxes m
$$;

revoke execute on function intake_find_tenant(text), intake_tenants_with_mailbox() from public;
grant execute on function intake_find_tenant(text), intake_tenants_with_mailbox() to invisible_app;
