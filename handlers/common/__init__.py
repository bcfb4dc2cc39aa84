"""What every feature reads: the core types, the texts, the map and categories, codes, sealing,
schedules, notices to officers and tipsters, scopes, and the housekeeping job."""
