-- Dropping and re-creating the extension inside one session: the cache must
-- forget the dropped objects (no stale sentinel, no stale principal data).
SELECT introw.set_contact(fx('rep'));
SELECT cardinality(introw.visible_tab_ids()) AS tabs_before;
DROP EXTENSION introw_roles CASCADE;
CREATE EXTENSION introw_roles;
INSERT INTO introw.tenants (name) VALUES ('Fresh');
SELECT name FROM introw.partner_roles ORDER BY role_id;
SELECT introw.current_principal_kind(), introw.visible_tab_ids();
SELECT introw.set_contact(fx('rep'));
DROP EXTENSION introw_roles;
