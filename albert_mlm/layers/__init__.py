"""Building blocks of the ALBERT network (private: import from `albert_mlm`)."""
