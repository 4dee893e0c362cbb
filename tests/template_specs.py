"""Template specs shared by the plain template tests: valid ones of each kind, as Meta documents
them (positional with every kind of button, named, authentication)."""

BODY = "Olá {{1}}, seu pedido {{2}} no valor de {{3}} foi confirmado com sucesso."
NAMED_BODY = (
    "Olá {{first_name}}, seu pedido {{order_ref}} no valor de {{amount}} foi confirmado com "
    "sucesso."
)


def positional() -> dict:
    """A valid positional template using every kind of button."""
    return {
        "name": "order_confirmed",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "header_type": "text",
        "header_text": "Pedido {{1}}",
        "body": BODY,
        "footer": "Loja Exemplo",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Falar com atendente"},
            {"type": "URL", "text": "Acompanhar", "url": "https://shop.example/track/{{1}}"},
            {"type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+5511987654321"},
            {"type": "COPY_CODE", "example": "SAVE10"},
        ],
        "samples": {
            "header": {"1": "S00042"},
            "body": {"1": "Ana", "2": "S00042", "3": "R$ 1.234,56"},
            "button_0": {},
            "button_1": {"1": "S00042"},
        },
    }


def named() -> dict:
    """A valid named template."""
    return {
        "name": "order_confirmed_named",
        "language": "en_US",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "header_type": "text",
        "header_text": "Order {{order_ref}}",
        "body": NAMED_BODY,
        "footer": "Example Shop",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop"},
        ],
        "samples": {
            "header": {"order_ref": "S00042"},
            "body": {"first_name": "Ana", "order_ref": "S00042", "amount": "$ 12.00"},
            "button_0": {"1": "S00042"},
        },
    }


def authentication() -> dict:
    return {
        "name": "login_code",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "body": "{{1}} is your verification code.",
        "add_security_recommendation": True,
        "code_expiration_minutes": 5,
        "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}],
    }


# Buttons of each kind
QR = {"type": "QUICK_REPLY", "text": "Ok"}
LINK = {"type": "URL", "text": "Site", "url": "https://shop.example"}
CALL = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550051310"}
COUPON = {"type": "COPY_CODE", "example": "SAVE10"}
