package migrations

// A goose Go migration: its statements are built at run time.
