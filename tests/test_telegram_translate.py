"""Translating raw Telegram updates into neutral events."""

from __future__ import annotations

from bot.channels.telegram import translate
from bot.events import Kind
from bot.registry import catalog


def message(text: str, length: int, chat_type: str = "private") -> dict:
    user = {"id": 42, "is_bot": False, "first_name": "A", "language_code": "id"}
    return {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "from": user, "text": text,
        "chat": {"id": 42, "type": chat_type},
        "entities": [{"type": "bot_command", "offset": 0, "length": length}]}}


def test_command_name_comes_from_the_entity() -> None:
    event = translate(message("/bantuan?", 8))
    assert event.kind == Kind.COMMAND and event.command == "bantuan"
    event = translate(message("/start\ncmc11-abcd", 6))
    assert (event.command, event.args) == ("start", "cmc11-abcd")
    event = translate(message("/menu@SiagaWargaBot", 19))
    assert event.command == "menu"


def test_group_messages_are_not_answered() -> None:
    assert translate(message("/start", 6, chat_type="group")) is None


def test_text_without_command_entity_is_text() -> None:
    update = message("/not a command", 0)
    update["message"]["entities"] = []
    assert translate(update).kind == Kind.TEXT


def test_group_command_for_another_bot_is_ignored() -> None:
    update = message("/hubungkan@OtherBot", 19, chat_type="supergroup")
    ours_only = catalog().group_commands()
    assert translate(update, "SiagaWargaBot", ours_only) is None
    ours = translate(message("/hubungkan@SiagaWargaBot 03", 24, chat_type="supergroup"),
                     "SiagaWargaBot", ours_only)
    assert ours is not None and ours.command == "hubungkan" and ours.args == "03"
    assert ours.group  # answered in the group, never as a private chat
