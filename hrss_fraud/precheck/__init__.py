"""Pre-settlement checks (事前提醒、事中审核): the catalogue's claim-level rules on one visit
and the person's history, for a hospital's system calling before the money leaves."""
