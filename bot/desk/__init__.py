"""The officers' web desk: the queue, a tip's page and its actions, served at /desk."""
