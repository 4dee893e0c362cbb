from . import test_reminders
