"""The tracking service's database: table definitions (`models`) and migrations (`migrate`)."""
