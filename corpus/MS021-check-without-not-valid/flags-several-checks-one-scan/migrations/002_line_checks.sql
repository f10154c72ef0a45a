SET lock_timeout = '2s';
ALTER TABLE order_lines
    ADD CONSTRAINT order_lines_quantity_positive CHECK (quantity > 0),
    ADD CONSTRAINT order_lines_price_not_negative CHECK (unit_price >= 0),
    ADD CONSTRAINT order_lines_discount_not_negative CHECK (discount >= 0);
