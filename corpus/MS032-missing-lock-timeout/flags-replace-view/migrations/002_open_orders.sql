CREATE OR REPLACE VIEW open_orders AS
    SELECT id, customer_id, amount, status FROM orders WHERE status <> 'shipped';
