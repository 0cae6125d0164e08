-- QuickBooks mapping (issue #22): besides the default expense account, a tenant may book lines to an item
-- (ItemBasedExpenseLineDetail) and give every line a tax code when its company uses them; a vendor's mapping may name its
-- own item, and remembers the QuickBooks vendor's currency so an invoice in another currency waits instead of failing.
alter table quickbooks_connections
    add column default_item_id       text,
    add column default_item_name     text,
    add column default_tax_code_id   text,
    add column default_tax_code_name text;

alter table quickbooks_vendor_mappings
    add column item_id             text,   -- overrides the account (and the default item) for this vendor's lines
    add column qbo_vendor_currency text;   -- the QuickBooks vendor's CurrencyRef; null: the company's home currency
