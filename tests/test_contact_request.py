"""Asking for the person's own phone number: a contact button, the CONTACT event, a flow step
that takes it, and how each channel shows the button (Telegram: a reply keyboard with
``request_contact``; the console: a numbered button sharing a demo number)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.app import open_services
from bot.callbacks import Callback
from bot.channels.console import ConsoleChannel, demo_number, parse_line
from bot.channels.running import running
from bot.channels.telegram import TelegramChannel, translate
from bot.channels.telegram_outbox import TelegramOutbox
from bot.channels.telegram_replies import Keyboards
from bot.clock import FakeClock
from bot.context import Context, Services
from bot.core import Core
from bot.events import (
    CONTACT_PAYLOAD,
    Kind,
    Reply,
    button,
    contact_button,
    e164,
    reply_from_json,
    reply_to_json,
    say,
)
from bot.feature import Catalog, Command, Feature, On
from bot.flow import Flow, Step
from bot.intake import Intake
from bot.menu import main_menu
from bot.registry import FEATURES
from bot.render import Renderer
from tests.chat import Chat
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI
from tests.telegram_harness import RunningBot

INVITE = next(line.split('"')[1] for line in Path("config/areas.demo.toml").read_text()
              .splitlines() if line.startswith('invite = "cmc23-'))


# --- a small feature with a phone step -------------------------------------------------------


@dataclass(frozen=True)
class SkipPhone(Callback, prefix="test:skipphone"):
    pass


def ask_name(ctx: Context) -> Reply:
    return say("raw", [PHONE.cancel_row()], value="Siapa nama Anda?")


async def take_name(ctx: Context) -> list[Reply]:
    ctx.conv.data["name"] = ctx.event.text.strip()
    return await PHONE.advance(ctx)


def ask_phone(ctx: Context) -> Reply:
    return say("raw", [[contact_button("raw", value="📱 Bagikan nomor saya")],
                       [button("raw", SkipPhone().pack(), value="Lewati")],
                       PHONE.back_row(ctx) + PHONE.cancel_row()],
               value="Nomor HP (boleh dilewati)?")


async def take_phone(ctx: Context) -> list[Reply]:
    number = ctx.event.text
    if not number:  # someone else's contact
        return await PHONE.again(ctx, "raw", value="Bagikan nomor Anda sendiri.")
    name = ctx.conv.data.get("name", "")
    ctx.conv.clear()
    return [main_menu(ctx, "raw", value=f"Tersimpan: {name} {number}")]


async def skip_phone(ctx: Context, data: SkipPhone) -> list[Reply]:
    ctx.conv.clear()
    return [say("raw", value="Dilewati, tanpa nomor.")]


async def start(ctx: Context) -> list[Reply]:
    PHONE.start(ctx, "name")
    return [await PHONE.ask(ctx)]


PHONE = Flow("phone", {
    "name": Step(ask=ask_name, typed=take_name, next="phone"),
    "phone": Step(ask=ask_phone, typed=take_phone, contact=True),
})
TOY = Feature("phone", commands=(Command("nomor", start),),
              buttons=(On(SkipPhone, skip_phone, "phone", ("phone",)),), flows=(PHONE,))


def with_toy(services: Services) -> Services:
    return dataclasses.replace(services, features=Catalog((*FEATURES, TOY)))


# --- events ----------------------------------------------------------------------------------


def contact_update(phone: str, user_id: int | None, sender: int = 42,
                   chat_type: str = "private") -> dict:
    contact = {"phone_number": phone, "first_name": "A"}
    if user_id is not None:
        contact["user_id"] = user_id
    return {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "contact": contact,
        "from": {"id": sender, "is_bot": False, "first_name": "A", "language_code": "id"},
        "chat": {"id": sender if chat_type == "private" else -100, "type": chat_type}}}


def test_telegram_contact_is_the_persons_own_number_or_nothing() -> None:
    own = translate(contact_update("6281234567890", 42))
    assert own.kind == Kind.CONTACT and own.text == "+6281234567890"
    assert translate(contact_update("+62 812-3456-7890", 42)).text == "+6281234567890"
    other = translate(contact_update("6289999999999", 77))  # picked from the address book
    assert other.kind == Kind.CONTACT and other.text == ""
    assert translate(contact_update("6289999999999", None)).text == ""  # not on Telegram
    assert translate(contact_update("6281234567890", 42, chat_type="group")) is None


def test_numbers_are_normalised_and_contact_buttons_survive_the_outbox_json() -> None:
    assert e164("6281234567890") == e164("+62 812-3456-7890") == "+6281234567890"
    assert e164("006281234567890") == "+6281234567890" and e164("") == ""
    reply = say("raw", [[contact_button("raw", value="📱")], [button("common.back", "x:y")]],
                value="?")
    again = reply_from_json(reply_to_json(reply))
    assert again == reply and again.asks_contact
    assert not reply_from_json(reply_to_json(say("raw", value="!"))).asks_contact


# --- the flow --------------------------------------------------------------------------------


async def test_a_contact_step_takes_the_number_other_steps_ask_again(services: Services
                                                                     ) -> None:
    chat = Chat(with_toy(services), "hp")
    await chat.register()
    await chat.send("/nomor")
    await chat._event(Kind.CONTACT, text="+6281234567890")  # on the name step: not taken
    assert "belum bisa memproses" in chat.texts[0] and chat.texts[-1] == "Siapa nama Anda?"
    await chat.send("Sri")
    assert chat.texts == ["Nomor HP (boleh dilewati)?"]
    assert "📱 Bagikan nomor saya" in chat.labels
    await chat.send("081234567890")  # typed by hand: not taken, the question again
    assert "pilih salah satu tombol" in chat.texts[0]
    assert chat.texts[-1] == "Nomor HP (boleh dilewati)?"
    await chat._event(Kind.CONTACT, text="")  # someone else's contact
    assert chat.texts == ["Bagikan nomor Anda sendiri.", "Nomor HP (boleh dilewati)?"]
    await chat._event(Kind.CONTACT, text="+6281234567890")
    assert chat.texts == ["Tersimpan: Sri +6281234567890"]
    await chat._event(Kind.CONTACT, text="+6281234567890")  # outside any flow: the menu
    assert "belum bisa memproses" in chat.texts[0]
    await chat.forge(CONTACT_PAYLOAD)  # the marker pressed as a button: nothing behind it
    assert "sudah tidak berlaku" in chat.texts[0]


# --- the console -----------------------------------------------------------------------------


def test_pressing_the_console_contact_button_shares_a_stable_demo_number() -> None:
    buttons = [CONTACT_PAYLOAD, SkipPhone().pack()]
    event = parse_line("#1", "console:ani", "ani", buttons, None)
    assert event.kind == Kind.CONTACT and event.text == demo_number("console:ani")
    assert event.text.startswith("+6280000") and len(event.text) == 14
    assert event.text == demo_number("console:ani") != demo_number("console:budi")
    assert parse_line("#2", "console:ani", "ani", buttons, None).kind == Kind.BUTTON


async def test_console_shows_the_contact_button_and_the_step_takes_its_number(
        services: Services) -> None:
    out = io.StringIO()
    script = ["#1", "#1", "#1", "#2", "#3", "/nomor", "Sri", "#1"]  # onboarding, then the toy
    console = ConsoleChannel(Core(with_toy(services)), Renderer(services.content, "console"),
                             "sri", stdin=io.StringIO("".join(f"{x}\n" for x in script)),
                             stdout=out)
    await console.run()
    text = out.getvalue()
    assert "[#1] 📱 Bagikan nomor saya" in text and "[#2] Lewati" in text
    assert f"Tersimpan: Sri {demo_number('console:sri')}" in text


# --- Telegram against the fake Bot API -------------------------------------------------------


@contextlib.asynccontextmanager
async def toy_bot(fake: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot in long-polling mode (as ``tests/telegram_harness.running_bot``), with the
    phone feature added to the catalog."""
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                             TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_POLL_TIMEOUT="1",
                             TELEGRAM_BOT_USERNAME=fake.bot_username,
                             SIAGA_PER_PERSON_BURST="100000")
    async with open_services(settings, FakeClock()) as opened:
        services = with_toy(opened)
        core = Core(services)
        intake = Intake(services, core, retry_delay=0.2)
        channel = TelegramChannel.build(services, core, intake)
        channel.backoff = 0.02
        async with running(services, intake, [channel]) as live:
            yield RunningBot(services, channel, live)


async def to_phone_step(user) -> dict:
    await user.send(f"/start {INVITE}")
    await user.next_reply()
    await user.click("✅ Bahasa Indonesia")
    await user.next_reply()
    await user.click("✅ Setuju")
    await user.next_reply()
    await user.send("/nomor")
    await user.next_reply()
    await user.send("Sri")
    return await user.next_reply()


async def test_telegram_asks_with_a_contact_keyboard_and_removes_it_after(fake, tmp_path
                                                                          ) -> None:
    async with toy_bot(fake, tmp_path):
        sri = fake.user(601, first_name="Sri")
        ask = await to_phone_step(sri)
        assert ask["text"] == "Nomor HP (boleh dilewati)?"
        markup = ask["reply_markup"]  # a reply keyboard, no inline buttons
        assert "inline_keyboard" not in markup and markup["one_time_keyboard"] is True
        assert markup["keyboard"][0][0] == {"text": "📱 Bagikan nomor saya",
                                            "request_contact": True}
        assert sri.keyboard_buttons() == ["📱 Bagikan nomor saya", "Lewati", "⬅️ Kembali",
                                          "✖️ Batal"]

        await sri.send_contact("6289999999999", own=False, user_id=777)  # a friend's card
        assert (await sri.next_reply())["text"] == "Bagikan nomor Anda sendiri."
        assert (await sri.next_reply())["text"] == "Nomor HP (boleh dilewati)?"
        assert sri.keyboard_buttons()[0] == "📱 Bagikan nomor saya"  # still there

        await sri.tap("📱 Bagikan nomor saya")
        saved = await sri.next_reply()  # the removal note came and went before it
        assert saved["text"] == "Tersimpan: Sri +6281200000601"
        assert "inline_keyboard" in saved["reply_markup"] and sri.buttons(saved)  # the menu
        assert fake.reply_keyboard(601) is None  # the keyboard is gone
        (note,) = [m for m in fake.messages_to(601)
                   if (m.get("reply_markup") or {}).get("remove_keyboard")]
        assert (601, note["message_id"]) in fake.deleted
        assert note["message_id"] < saved["message_id"]

        await sri.send("halo")  # keyboard closed: no further removal
        await sri.next_reply()
        assert len(fake.calls_of("deleteMessage")) == 1


async def test_tapping_skip_or_back_on_the_keyboard_is_that_button(fake, tmp_path) -> None:
    async with toy_bot(fake, tmp_path) as bot:
        budi = fake.user(602, first_name="Budi")
        await to_phone_step(budi)
        await budi.tap("⬅️ Kembali")  # arrives as text "⬅️ Kembali": the Back button
        back = await budi.next_reply()
        assert back["text"] == "Siapa nama Anda?" and budi.buttons(back) == ["✖️ Batal"]
        assert fake.reply_keyboard(602) is None  # removed by the note before the question

        await budi.send("Budi")
        await budi.next_reply()
        await budi.tap("Lewati")
        skipped = await budi.next_reply()
        assert skipped["text"] == "Dilewati, tanpa nomor."
        assert skipped["reply_markup"] == {"remove_keyboard": True}  # removed with it
        assert fake.reply_keyboard(602) is None and not fake.calls_of("deleteMessage")[1:]

        # after a restart the labels are forgotten: "Lewati" is typed text, asked again
        await budi.send("/nomor")
        await budi.next_reply()
        await budi.send("Budi")
        await budi.next_reply()
        bot.channel.replies.keyboards = Keyboards()
        await budi.tap("Lewati")
        assert "pilih salah satu tombol" in (await budi.next_reply())["text"]
        again = await budi.next_reply()
        assert again["text"] == "Nomor HP (boleh dilewati)?"
        await budi.tap("Lewati")  # the question again brought the labels back
        assert (await budi.next_reply())["text"] == "Dilewati, tanpa nomor."


async def test_a_contact_request_through_the_outbox_is_rendered_too(fake, tmp_path) -> None:
    async with toy_bot(fake, tmp_path) as bot:
        reply = say("raw", [[contact_button("raw", value="📱 Bagikan nomor saya")],
                            [button("raw", SkipPhone().pack(), value="Lewati")]],
                    value="Boleh minta nomor HP?")
        transport = TelegramOutbox(bot.channel)
        try:
            delivery = await transport.send("603", "id", reply)
        finally:
            await transport.stop()
        assert delivery.status == "sent"
        keyboard = fake.reply_keyboard(603)
        assert keyboard["keyboard"] == [[{"text": "📱 Bagikan nomor saya",
                                          "request_contact": True}], [{"text": "Lewati"}]]
