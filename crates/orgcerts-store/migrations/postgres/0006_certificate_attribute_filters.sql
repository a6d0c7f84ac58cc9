-- orgcerts schema, version 6 (PostgreSQL): each certificate's attribute filter, the source text
-- of a CEL expression compiled when it was saved; NULL when none is set.
ALTER TABLE certificates ADD COLUMN attribute_filter TEXT;
