"""The processes: the ``tracker`` command (``cli``) and the scheduler; thin, they call the application layer."""
