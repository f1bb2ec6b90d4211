"""The write side: the Partnership aggregate, its pure rules and the Tracker application."""
