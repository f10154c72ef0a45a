DELETE FROM orders WHERE note = 'gift';
