exports.up = (pgm) => { pgm.sql("UPDATE accounts SET email = lower(email)"); };
exports.down = false;
