CREATE POLICY orders_first_customer ON orders USING (customer_id = 1);
