"""Volunteers: sign-up, call-outs matched by area, skill and availability, and help for
isolating households (gotong royong made operational)."""
