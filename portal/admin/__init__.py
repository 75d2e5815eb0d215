"""Flask-Admin views: a per-district admin under /t/<slug>/admin/ and a platform admin."""
