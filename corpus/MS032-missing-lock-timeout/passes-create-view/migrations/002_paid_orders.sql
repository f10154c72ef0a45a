CREATE VIEW paid_orders AS
    SELECT id, customer_id, amount FROM orders WHERE status = 'paid';
