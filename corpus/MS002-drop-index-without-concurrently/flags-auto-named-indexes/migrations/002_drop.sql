SET lock_timeout = '2s';
DROP INDEX orders_lower_idx;
DROP INDEX orders_status_expr_idx;
DROP INDEX orders_lower_lower1_idx;
DROP INDEX orders_note_idx;
DROP INDEX orders_customer_id_idx1;
DROP INDEX customers_email_coalesce_idx;
