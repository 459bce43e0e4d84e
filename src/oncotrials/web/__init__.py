"""The Django project: settings, URLs, the API, the Celery app and base templates."""
