UPDATE order_items SET qty = qty + 1 WHERE id = 1;
