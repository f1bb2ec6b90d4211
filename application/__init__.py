"""The application layer: the one front door for commands (``services``), configuration, users, jobs, seed,
export and import, the council report, the vocabulary and the message catalogues. No HTTP in here."""
