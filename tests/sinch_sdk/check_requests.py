"""Checks Conversation API request bodies against the request models of Sinch's official Python
SDK (PyPI `sinch`, the version pinned in infra/scripts/install-tools.sh), more strictly than the
SDK itself does.

Why stricter: the SDK's pydantic models accept unknown fields (`extra="allow"`) and any string
where an enum is expected (`Union[Literal[...], StrictStr]`), so a misspelt field or enum value
would pass them. This checker validates with the SDK's models (types, required fields) and then
walks the body along those same models: every field must be one the SDK declares, and every
enum value one of the SDK's own spellings. Plus the rules the SDK states but does not enforce:
exactly one message (or event) kind, exactly one of `contact_id` and `identified_by`.

What the SDK does not model, and how it is checked instead:
- `events:send`: the Python SDK 2.3.0 has no events API. The model below transcribes the
  official Node SDK's `SendEventRequest` / `AppEvent` (npm `@sinch/conversation` 1.4.0), built
  from the Python SDK's own `Recipient`, `Agent`, channel and queue types.
- `message.reply_to`: Sinch's reference lists it on AppMessage (the quote of a customer's
  WhatsApp message) but neither SDK's AppMessage has it yet; it is checked with the SDK's own
  `ReplyTo` model.

Usage: check_requests.py FILE...   (FILE `-` reads stdin)
Each FILE holds a JSON array of either requests as the Sinch simulator records them
(`GET /_simulator/requests`: {"method", "path", "query", "headers", "body"}, body the request
text; only `messages:send` and `events:send` are checked, other paths are counted and skipped)
or bare request bodies (a body with `message` is a messages:send, one with `event` an
events:send).
Exit 0: every request is valid (a summary on stdout). Exit 1: one line per problem on stdout,
`<file>[<index>] <endpoint>: <field path>: <problem>`. Exit 2: unreadable input.
"""
import json
import sys
import types
import typing
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from sinch.domains.conversation.models.v1.messages.internal.request.send_message_request import (
    SendMessageRequest,
)
from sinch.domains.conversation.models.v1.messages.internal.request.send_message_request_body import (
    SendMessageRequestBody,
)
from sinch.domains.conversation.models.v1.messages.internal.request.recipient import Recipient
from sinch.domains.conversation.models.v1.messages.categories.app.app_message import (
    CardAppMessage,
    CarouselAppMessage,
    ChoiceAppMessage,
    ContactInfoAppMessage,
    ListAppMessage,
    LocationAppMessage,
    MediaAppMessage,
    TemplateAppMessage,
    TextAppMessage,
)
from sinch.domains.conversation.models.v1.messages.categories.common.reply_to import ReplyTo
from sinch.domains.conversation.models.v1.messages.shared.agent import Agent
from sinch.domains.conversation.models.v1.messages.types.conversation_channel_type import (
    ConversationChannelType,
)
from sinch.domains.conversation.models.v1.messages.types.message_queue_type import (
    MessageQueueType,
)

# The SDK's AppMessage of each kind: the kind plus agent, explicit_channel_message,
# explicit_channel_omni_message and channel_specific_message.
APP_MESSAGES = {
    "text_message": TextAppMessage,
    "media_message": MediaAppMessage,
    "choice_message": ChoiceAppMessage,
    "card_message": CardAppMessage,
    "carousel_message": CarouselAppMessage,
    "location_message": LocationAppMessage,
    "list_message": ListAppMessage,
    "contact_info_message": ContactInfoAppMessage,
    "template_message": TemplateAppMessage,
}
assert set(APP_MESSAGES) == set(SendMessageRequestBody.model_fields), (
    "the SDK's message kinds changed: update APP_MESSAGES"
)
# Fields Sinch accepts on AppMessage that the SDK's models lack, with the SDK model that checks them.
APP_MESSAGE_ADDITIONS = {"reply_to": ReplyTo}


# --- events:send, after @sinch/conversation 1.4.0 (send-event-request.d.ts, app-event.d.ts) ---
class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmptyEvent(_Closed):
    """`Record<string, never>`: composing_event, composing_end_event."""


class CommentReplyEventItem(_Closed):
    text: StrictStr


class AgentEventItem(_Closed):
    agent: Agent


class GenericEventItem(_Closed):
    payload: Dict[str, Any]


class AppEvent(_Closed):
    composing_event: Optional[EmptyEvent] = None
    composing_end_event: Optional[EmptyEvent] = None
    comment_reply_event: Optional[CommentReplyEventItem] = None
    agent_joined_event: Optional[AgentEventItem] = None
    agent_left_event: Optional[AgentEventItem] = None
    generic_event: Optional[GenericEventItem] = None


class SendEventRequest(_Closed):
    app_id: StrictStr
    recipient: Recipient
    event: AppEvent
    callback_url: Optional[StrictStr] = None
    channel_priority_order: Optional[List[ConversationChannelType]] = None
    event_metadata: Optional[StrictStr] = None
    queue: Optional[MessageQueueType] = None


# --- the strict walk ---------------------------------------------------------------------------
def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _fields(model) -> Dict[str, Any]:
    """Field name (and alias) -> annotation."""
    fields = {}
    for name, info in model.model_fields.items():
        fields[name] = info.annotation
        if info.alias:
            fields[info.alias] = info.annotation
    return fields


def _is_union(annotation) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _enum_spellings(annotation) -> Optional[List[str]]:
    """The SDK's enum pattern, Union[Literal[...], StrictStr]: the literal spellings."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if not _is_union(annotation):
        return None
    literals = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            literals.extend(typing.get_args(arg))
    return literals or None


def walk(value, annotation, parts, problems):
    """Every key of `value` is a field of the model `annotation`, every enum value a spelling
    the SDK knows, recursively. Types and required fields are pydantic's job (validate())."""
    spellings = _enum_spellings(annotation)
    if spellings is not None:
        if isinstance(value, str) and value not in spellings:
            problems.append((_path(parts), f"{value!r} is not one of the SDK's spellings {spellings}"))
        return
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        walk(value, args[0], parts, problems)
        return
    if _is_union(annotation):  # Optional[X], and unions of models: the arm that fits best
        arms = [a for a in args if a is not type(None)]
        models = [a for a in arms if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(arms) == 1:
            walk(value, arms[0], parts, problems)
        elif models and isinstance(value, dict):
            best = None
            for model in models:
                found = []
                walk(value, model, parts, found)
                # The arm that declares the body's own keys, then the one with fewest problems.
                score = (len([k for k in value if k not in _fields(model)]), len(found))
                if best is None or score < best[0]:
                    best = (score, found)
            problems.extend(best[1])
        return
    if origin in (list, List) and isinstance(value, list):
        for index, item in enumerate(value):
            walk(item, args[0] if args else Any, parts + [index], problems)
        return
    if origin in (dict, Dict) and isinstance(value, dict):
        for key, item in value.items():
            if args and _enum_spellings(args[0]) is not None:
                walk(key, args[0], parts + [key], problems)
            walk(item, args[1] if len(args) > 1 else Any, parts + [key], problems)
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
        fields = _fields(annotation)
        for key, item in value.items():
            if key not in fields:
                problems.append((_path(parts + [key]), f"not a field of the SDK's {annotation.__name__}"))
                continue
            walk(item, fields[key], parts + [key], problems)


def validate(model, value, parts, problems):
    """The SDK's own validation (types, required fields), errors with their field paths."""
    try:
        model.model_validate(value)
    except ValidationError as error:
        for item in error.errors():
            loc = [p for p in item["loc"] if not (isinstance(p, str) and p.startswith(("literal[", "str", "function-")))]
            problems.append((_path(parts + loc), item["msg"]))


def check_recipient(recipient, problems):
    if not isinstance(recipient, dict):
        return
    given = [k for k in ("contact_id", "identified_by") if recipient.get(k) is not None]
    if len(given) != 1:
        problems.append(("recipient", f"exactly one of contact_id and identified_by is required, found {given}"))


def check_message_request(body) -> List[tuple]:
    problems = []
    if not isinstance(body, dict):
        return [("(body)", "not a JSON object")]
    without_message = {k: v for k, v in body.items() if k != "message"}
    validate(SendMessageRequest, {**without_message, "message": {}}, [], problems)
    walk(without_message, SendMessageRequest, [], problems)
    check_recipient(body.get("recipient"), problems)
    message = body.get("message")
    if not isinstance(message, dict):
        problems.append(("message", "required: an AppMessage object"))
        return problems
    kinds = [k for k in APP_MESSAGES if message.get(k) is not None]
    if len(kinds) != 1:
        problems.append(("message", f"exactly one message kind is required, found {kinds}"))
        return problems
    model = APP_MESSAGES[kinds[0]]
    core = {k: v for k, v in message.items() if k not in APP_MESSAGE_ADDITIONS}
    validate(model, core, ["message"], problems)
    walk(core, model, ["message"], problems)
    for key, addition in APP_MESSAGE_ADDITIONS.items():
        if key in message:
            validate(addition, message[key], ["message", key], problems)
            walk(message[key], addition, ["message", key], problems)
    return problems


def check_event_request(body) -> List[tuple]:
    problems = []
    if not isinstance(body, dict):
        return [("(body)", "not a JSON object")]
    validate(SendEventRequest, body, [], problems)
    walk(body, SendEventRequest, [], problems)
    check_recipient(body.get("recipient"), problems)
    event = body.get("event")
    if isinstance(event, dict):
        kinds = [k for k in AppEvent.model_fields if event.get(k) is not None]
        if len(kinds) != 1:
            problems.append(("event", f"exactly one event kind is required, found {kinds}"))
    channels = body.get("channel_priority_order")
    if isinstance(channels, list) and len(channels) > 1:
        problems.append(("channel_priority_order", "an event goes to one channel; more have no effect"))
    return problems


CHECKS = {"messages:send": check_message_request, "events:send": check_event_request}


def requests_of(items):
    """(index, endpoint or None, body) of each item."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and "path" in item and "body" in item:
            path = item.get("path") or ""
            endpoint = next((e for e in CHECKS if path.endswith("/" + e)), None)
            if endpoint is None or item.get("method", "POST") != "POST":
                yield index, None, None
                continue
            try:
                body = json.loads(item["body"])
            except (TypeError, ValueError) as error:
                yield index, endpoint, error
                continue
            yield index, endpoint, body
        elif isinstance(item, dict) and "message" in item:
            yield index, "messages:send", item
        elif isinstance(item, dict) and "event" in item:
            yield index, "events:send", item
        else:
            yield index, "unknown", item


def main(arguments) -> int:
    if not arguments:
        print(__doc__, file=sys.stderr)
        return 2
    problems, checked, skipped = [], {e: 0 for e in CHECKS}, 0
    for name in arguments:
        try:
            text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
            items = json.loads(text)
        except (OSError, ValueError) as error:
            print(f"{name}: cannot read a JSON array: {error}", file=sys.stderr)
            return 2
        if not isinstance(items, list):
            print(f"{name}: expected a JSON array", file=sys.stderr)
            return 2
        for index, endpoint, body in requests_of(items):
            where = f"{name}[{index}]"
            if endpoint is None:
                skipped += 1
            elif endpoint == "unknown":
                problems.append(f"{where}: neither a recorded request nor a body with `message` or `event`")
            elif isinstance(body, Exception):
                problems.append(f"{where} {endpoint}: (body): not JSON: {body}")
            else:
                checked[endpoint] += 1
                seen = set()
                for path, problem in CHECKS[endpoint](body):
                    # pydantic and the walk may both see one unknown field: report it once.
                    if path not in seen:
                        seen.add(path)
                        problems.append(f"{where} {endpoint}: {path}: {problem}")
    for line in problems:
        print(line)
    if problems:
        return 1
    print(
        f"valid: {checked['messages:send']} messages:send, {checked['events:send']} events:send "
        f"(Sinch Python SDK models); {skipped} other requests skipped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
