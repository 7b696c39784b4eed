"""The ALBERT network and its masked-LM task (private: import from `albert_mlm`)."""
