from core.errors import HelpDeskError


class PrivacyError(HelpDeskError):
    """A personal-data request was refused; nothing changed."""
