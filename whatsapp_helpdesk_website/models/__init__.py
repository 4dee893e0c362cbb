# isort: off
from . import whatsapp_entry_point
from . import whatsapp_conversation
from . import website
from . import res_config_settings
from . import product_template
# isort: on
