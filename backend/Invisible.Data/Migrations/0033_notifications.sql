-- Notifications (issue #25): what each person was told, by which channel, and what they want to be told.
-- One row per event, person and channel: the unique key is what makes delivery through the outbox (at least once)
-- tell a person once. A daily digest is an "event" of its own, its id derived from the person and the day.
create table notifications (
    id         uuid primary key default gen_random_uuid(),
    tenant_id  uuid not null references tenants,
    event_id   uuid not null,
    user_id    uuid not null,
    channel    text not null check (channel in ('email', 'in_app')),
    kind       text not null check (kind in ('exception_assigned', 'approval_waiting', 'import_rejected', 'quickbooks_export_failed', 'daily_digest')),
    subject    text not null,
    body       text not null,
    link       text not null,
    created_at timestamptz not null default now(),
    read_at    timestamptz,
    unique (tenant_id, event_id, user_id, channel),
    foreign key (tenant_id, user_id) references users (tenant_id, id)
);
create index notifications_unread on notifications (tenant_id, user_id, created_at desc) where channel = 'in_app' and read_at is null;

-- A person's choices per kind; a kind without a row has the defaults (everything on).
create table notification_preferences (
    tenant_id  uuid not null references tenants,
    user_id    uuid not null,
    kind       text not null check (kind in ('exception_assigned', 'approval_waiting', 'import_rejected', 'quickbooks_export_failed')),
    email      boolean not null,
    in_app     boolean not null,
    digest     boolean not null,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, user_id, kind),
    foreign key (tenant_id, user_id) references users (tenant_id, id)
);

alter table notifications enable row level security;
alter table notifications force row level security;
create policy tenant_isolation on notifications
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update (read_at) on notifications to invisible_app;

alter table notification_preferences enable row level security;
alter table notification_preferences force row level security;
create policy tenant_isolation on notification_preferences
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update (email, in_app, digest, updated_at) on notification_preferences to invisible_app;
