"""Plain-Python building blocks of whatsapp_helpdesk: no Odoo import anywhere in this package.

The Odoo models call them; the repository's top-level ``tests/`` load them by file path. Modules
import each other relatively (``from .webhook import sign``) so that the package works both as
``odoo.addons.whatsapp_helpdesk.tools`` and stand-alone
(``cd whatsapp_helpdesk && python -m tools.sandbox``).
"""
