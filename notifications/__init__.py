"""The e-mail outbox: the bottom app every other app registers its e-mails with.

An app registers each of its events once (`notifications.events.register`, from its
`AppConfig.ready`): who receives it and what the templates `emails/<event>*` are given. Its services
then queue one with `notifications.outbox.notify(event, subject, **context)` inside their
transaction; a Celery task sends it after commit, and the drain sends whatever that task missed.
"""
