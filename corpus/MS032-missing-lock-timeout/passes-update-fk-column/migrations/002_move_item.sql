UPDATE order_items SET order_id = 3 WHERE sku = 'B-200';
