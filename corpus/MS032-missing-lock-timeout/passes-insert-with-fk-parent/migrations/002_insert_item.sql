INSERT INTO order_items (order_id, sku, qty) VALUES (3, 'C-300', 1);
