-- Not in sqitch.plan: sqitch never deploys it.
DROP TABLE orders;
