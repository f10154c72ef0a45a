SET lock_timeout = '2s';
MERGE INTO orders o USING customers c ON o.customer_id = c.id
WHEN MATCHED AND c.name IS NULL THEN UPDATE SET note = 'no name'
WHEN NOT MATCHED THEN DO NOTHING;
