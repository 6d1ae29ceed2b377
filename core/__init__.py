"""The shared base of every app: the error root, bounds on what people type, pagination, admin
helpers and the options of background jobs. It imports no app and defines no models."""
