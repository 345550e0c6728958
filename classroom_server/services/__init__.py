"""Use cases. Web handlers call these; these never touch ``flask.request``."""
