"""Meta's Graph API errors as the sandbox answers them: an HTTP status and Meta's error body.

One factory per error the Cloud API documents (code 100 invalid parameter, 190 access token,
130429 throughput, 131000 something went wrong, 131047 re-engagement, 131056 pair rate limit,
132xxx template errors), so that the routes raise the error by its name.
"""

import secrets


class GraphError(Exception):
    """A Graph API error answer: an HTTP status and Meta's error body."""

    def __init__(
        self,
        http_status: int,
        code: int,
        message: str,
        details="",
        subcode=None,
        *,
        user_title=None,
        user_msg=None,
    ):
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details or user_msg or message
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg

    def body(self) -> dict:
        """Meta's error body: ``{"error": {"message", "type", "code", ...}}``.

        Business management errors (templates) also carry ``is_transient`` and the
        ``error_user_title`` / ``error_user_msg`` meant for a person.
        """
        error = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title or self.user_msg:
            error["is_transient"] = False
            error["error_user_title"] = self.user_title or self.message
            error["error_user_msg"] = self.user_msg or self.details
        error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
        return {"error": error}


def invalid_parameter(details: str, subcode=None) -> GraphError:
    """HTTP 400 code 100: the request is malformed."""
    return GraphError(400, 100, "(#100) Invalid parameter", details, subcode)


def invalid_token() -> GraphError:
    """HTTP 401 code 190: missing or wrong access token."""
    return GraphError(
        401, 190, "Error validating access token: the access token is missing or invalid."
    )


def unknown_object(object_id: str, method: str) -> GraphError:
    """HTTP 400 code 100 subcode 33: no such phone number, account, media or template."""
    message = (
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation."
    )
    return GraphError(400, 100, message, subcode=33)


def rate_limited() -> GraphError:
    """HTTP 429 code 130429: throughput of the business number exceeded."""
    details = "Cloud API message throughput has been reached."
    return GraphError(429, 130429, "(#130429) Rate limit hit", details)


def internal_error() -> GraphError:
    """HTTP 500 code 131000: a transient failure on Meta's side."""
    return GraphError(500, 131000, "(#131000) Something went wrong", "Something went wrong.")


def window_closed() -> GraphError:
    """HTTP 400 code 131047: free-form message outside the customer service window."""
    details = (
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number."
    )
    return GraphError(400, 131047, "(#131047) Re-engagement message", details)


def pair_rate_limited() -> GraphError:
    """HTTP 400 code 131056: too many messages to one recipient in a short time."""
    message = "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    details = (
        "Too many messages sent from the sender phone number to the same recipient phone number "
        "in a short period of time."
    )
    return GraphError(400, 131056, message, details)


def template_invalid(title: str, user_msg: str, subcode=None) -> GraphError:
    """HTTP 400 code 100 refusing a template creation or edit, with Meta's ``error_user_*``."""
    return GraphError(
        400, 100, "Invalid parameter", user_msg, subcode, user_title=title, user_msg=user_msg
    )


def template_missing(name: str, language: str) -> GraphError:
    """HTTP 400 code 132001: no such template in that language, or not approved (yet)."""
    message = "(#132001) Template name does not exist in the translation"
    return GraphError(400, 132001, message, f"template name ({name}) does not exist in {language}")


def template_paused(name: str) -> GraphError:
    """HTTP 400 code 132015: the template is paused for low quality."""
    details = f"Template {name} is paused due to low quality so it cannot be sent."
    return GraphError(400, 132015, "(#132015) Template is Paused", details)


def template_disabled(name: str) -> GraphError:
    """HTTP 400 code 132016: the template was paused too often and is disabled for good."""
    details = f"Template {name} has been paused too many times due to low quality and is now "
    details += "permanently disabled."
    return GraphError(400, 132016, "(#132016) Template is disabled", details)


def template_params_mismatch(details: str) -> GraphError:
    """HTTP 400 code 132000: the parameters sent do not fit the template's variables."""
    message = "(#132000) Number of parameters does not match the expected number of params"
    return GraphError(400, 132000, message, details)


def template_format_mismatch(details: str) -> GraphError:
    """HTTP 400 code 132012: a header parameter is missing or of the wrong kind."""
    message = "(#132012) Parameter format does not match format in the created template"
    return GraphError(400, 132012, message, details)


def required_parameter_missing(details: str) -> GraphError:
    """HTTP 400 code 131008: a parameter lacks its value (e.g. a text parameter without text)."""
    return GraphError(400, 131008, "(#131008) Required parameter is missing", details)


def require(condition, details: str) -> None:
    """Raise ``invalid_parameter(details)`` unless ``condition``."""
    if not condition:
        raise invalid_parameter(details)


class ControlError(ValueError):
    """A bad control API request (HTTP 400 with ``{"error": message}``)."""
