-- Names people confirmed for a vendor: every decision in which a person says which vendor a printed name is records the
-- name as an alias of source 'reviewer' with the decision it came from (and the invoice, when there was one). created_by
-- and created_at say who and when; the audit log holds the entry. The resolver takes confirmed names at their word, and
-- the similarity model is retrained on them.
alter table vendor_aliases
    add column decision text check (decision in ('assign_vendor', 'rematch', 'approve_guess', 'keyed_invoice', 'merge', 'operator')),
    add column invoice_id uuid;
alter table vendor_aliases add constraint vendor_aliases_decision_of_reviewer check (decision is null or source = 'reviewer');
comment on column vendor_aliases.decision is 'for source reviewer: the decision that confirmed the name (assign_vendor, rematch, approve_guess, keyed_invoice, merge, operator)';
comment on column vendor_aliases.invoice_id is 'the invoice whose printed name was confirmed, when the decision was about one';
