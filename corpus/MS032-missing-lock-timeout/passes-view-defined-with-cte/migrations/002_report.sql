CREATE VIEW big_order_ids AS SELECT id FROM big_orders;
SELECT count(*) FROM big_orders;
