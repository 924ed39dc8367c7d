"""paicha."""
