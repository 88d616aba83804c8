-- Dropping and re-creating the extension inside one session: the cache must
-- forget the dropped objects (no stale sentinel, no stale stamps).
SELECT introw.set_user(fx('admin'));
SELECT cardinality(introw.visible_tab_ids()) AS tabs_before;
SELECT epoch AS old_stamp FROM introw.visibility_epochs WHERE tenant_id = fx('acme') AND scope = 0 \gset
DROP EXTENSION introw_roles CASCADE;
CREATE EXTENSION introw_roles;
-- the new install numbers ids and stamps from 1 again: the same user id,
-- different data
DO $$
DECLARE t bigint; r bigint;
BEGIN
    INSERT INTO introw.tenants (name) VALUES ('Fresh') RETURNING tenant_id INTO t;
    INSERT INTO introw.internal_users (tenant_id, email, user_role) VALUES (t, 'boss@fresh.test', 'admin');
    INSERT INTO introw.rooms (tenant_id, name) VALUES (t, 'Fresh Room') RETURNING room_id INTO r;
    INSERT INTO introw.tabs (tenant_id, room_id, name) VALUES (t, r, 'Fresh Tab'), (t, r, 'Second Tab');
END $$;
SELECT user_id = fx('admin') AS same_user_id FROM introw.internal_users;
SELECT name FROM introw.partner_roles ORDER BY role_id;
-- make the tenant's stamp collide with the one the old cache was built at
SELECT setval('introw.visibility_epoch', :old_stamp - 2, true) IS NOT NULL AS rewound;
UPDATE introw.tabs SET position = 1;
SELECT epoch = :old_stamp AS stamp_collides FROM introw.visibility_epochs WHERE scope = 0;
-- the old cache must not come back: the new admin sees the new tabs only
SELECT introw.current_principal_kind(),
       array(SELECT name FROM introw.tabs WHERE tab_id = ANY (introw.visible_tab_ids()) ORDER BY tab_id) AS tabs,
       cardinality(introw.visible_tab_ids()) AS n_tabs;
DROP EXTENSION introw_roles;
