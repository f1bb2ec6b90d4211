"""The read side: read models fed from the log, and the queries over them."""
