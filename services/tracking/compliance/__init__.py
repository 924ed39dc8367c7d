"""Deadline compliance for supervisors: the figures (``figures``, pure) and their scoped read
from the database (``read``)."""
