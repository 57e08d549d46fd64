"""The fake Telegram Bot API must behave like Telegram for the real python-telegram-bot."""

import asyncio
import datetime as dtm
import signal
import sys
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

try:
    from tests.fake_telegram import DEFAULT_TOKEN, FakeBotAPI
except ImportError:  # pytest run without the repo root on sys.path
    from fake_telegram import DEFAULT_TOKEN, FakeBotAPI  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Banjir", callback_data="lapor:banjir")],
        [
            InlineKeyboardButton("Kebakaran", callback_data="lapor:api"),
            InlineKeyboardButton("Info", url="https://example.invalid/info"),
        ],
    ]
)


@pytest.fixture
async def fake():
    api = FakeBotAPI()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def bot(fake):
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def _root(fake: FakeBotAPI) -> str:
    return f"http://127.0.0.1:{fake.port}"


async def test_get_me(fake, bot):
    me = await bot.get_me()
    assert me.username == "SiagaWargaTestBot"
    assert me.id == 123456
    assert me.is_bot
    assert bot.username == "SiagaWargaTestBot"  # Bot.initialize() called getMe
    assert fake.calls[0][0] == "getMe"
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"


async def test_wrong_token_and_unknown_method(fake, bot):
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with Bot("999:WRONG-token", base_url=fake.base_url):
            pass
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{fake.base_url}999:WRONG/getMe")
        assert r.status_code == 401
        assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        r = await client.post(f"{fake.base_url}{fake.token}/fooBar")
        assert r.status_code == 404
        assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_message_keyboard_and_click(fake, bot):
    user = fake.user(42, first_name="Siti")
    sent = await bot.send_message(42, "Apa yang terjadi?", reply_markup=KEYBOARD)
    assert sent.reply_markup == KEYBOARD
    assert sent.chat.id == 42
    assert sent.chat.type == "private"
    assert sent.chat.first_name == "Siti"
    assert sent.from_user.id == bot.id
    assert sent.from_user.is_bot

    params = fake.calls_of("sendMessage")[0]
    assert params["chat_id"] == 42
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "lapor:banjir"

    reply = await user.next_reply()
    assert reply["text"] == "Apa yang terjadi?"
    assert reply["message_id"] == sent.message_id
    assert user.buttons() == ["Banjir", "Kebakaran", "Info"]
    assert fake.messages_to(42) == [reply]

    update = await user.click("Kebakaran")
    parsed = Update.de_json(update, bot)
    assert parsed.update_id == update["update_id"]
    assert parsed.callback_query.data == "lapor:api"
    assert isinstance(parsed.callback_query.id, str)
    assert parsed.callback_query.from_user.id == 42
    assert parsed.callback_query.message.message_id == sent.message_id
    assert parsed.callback_query.message.reply_markup == KEYBOARD
    assert parsed.effective_chat.id == 42

    with pytest.raises(AssertionError, match=r"available: \['Banjir', 'Kebakaran', 'Info'\]"):
        await user.click("Gempa")
    with pytest.raises(AssertionError, match="not a callback button"):
        await user.click("Info")

    await bot.answer_callback_query(parsed.callback_query.id, text="Dicatat")
    assert user.answered_callbacks == [
        {"callback_query_id": parsed.callback_query.id, "text": "Dicatat"}
    ]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(parsed.callback_query.id)


async def test_user_updates_parse_in_ptb(fake, bot):
    user = fake.user(7, language_code="en")
    update = await user.send("/lapor@SiagaWargaTestBot banjir di RT 03")
    parsed = Update.de_json(update, bot)
    assert parsed.message.text.startswith("/lapor")
    assert parsed.message.entities[0].type == "bot_command"
    assert parsed.message.entities[0].length == len("/lapor@SiagaWargaTestBot")
    assert parsed.effective_user.language_code == "en"
    assert parsed.effective_chat.type == "private"

    plain = await user.send("halo")
    assert "entities" not in plain["message"]
    assert plain["message"]["message_id"] > update["message"]["message_id"]
    assert plain["update_id"] > update["update_id"]

    photo = Update.de_json(await user.send_photo(caption="air naik"), bot)
    assert photo.message.caption == "air naik"
    assert photo.message.photo[-1].width == 1280
    sticker = Update.de_json(await user.send_sticker(), bot)
    assert sticker.message.sticker is not None
    location = Update.de_json(await user.send_location(-6.9, 107.6), bot)
    assert location.message.location.latitude == pytest.approx(-6.9)

    blocked = Update.de_json(await user.block_bot(), bot)
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden):
        await bot.send_message(7, "x")
    await user.unblock_bot()
    await bot.send_message(7, "x")

    forged = Update.de_json(await user.click_data("admin:hapus", message_id=999), bot)
    assert forged.callback_query.data == "admin:hapus"
    assert not forged.callback_query.message.is_accessible  # date 0: InaccessibleMessage


async def test_get_updates_offset_confirmation(fake, bot):
    user = fake.user(5)
    first = await user.send("satu")
    second = await user.send("dua")
    third = await user.send("tiga")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [
        first["update_id"],
        second["update_id"],
        third["update_id"],
    ]
    assert len(await bot.get_updates(limit=2)) == 2
    # confirming the second forgets the first
    updates = await bot.get_updates(offset=second["update_id"])
    assert [u.message.text for u in updates] == ["dua", "tiga"]
    assert [u.message.text for u in await bot.get_updates()] == ["dua", "tiga"]
    assert await bot.get_updates(offset=third["update_id"] + 1) == ()
    assert await bot.get_updates() == ()


async def test_get_updates_long_poll_wakes_up(fake, bot):
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not task.done()
    pushed_at = loop.time()
    await fake.user(9).send("darurat")
    updates = await asyncio.wait_for(task, 3)
    assert loop.time() - pushed_at < 1.0
    assert updates[0].message.text == "darurat"

    started = loop.time()
    assert len(await bot.get_updates(timeout=1)) == 1  # not confirmed yet: answered at once
    assert loop.time() - started < 0.5
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()


async def test_long_poll_times_out_empty(fake, bot):
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= loop.time() - started < 3


async def test_second_poller_terminates_first(fake, bot):
    task = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{fake.base_url}{fake.token}/getUpdates", data={"timeout": "0"})
    assert r.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match=r"(?i)terminated by other getupdates request"):
        await task


async def test_stop_is_prompt_with_pending_long_polls():
    fake = FakeBotAPI()
    await fake.start()
    async with Bot(fake.token, base_url=fake.base_url) as other:
        cancelled = asyncio.create_task(other.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        cancelled.cancel()  # the client gives up mid-poll, as PTB does on shutdown
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert await other.get_updates(timeout=0) == ()  # no spurious Conflict afterwards
        waiting = asyncio.create_task(other.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await fake.stop()
        assert await asyncio.wait_for(waiting, 5) == ()
        assert loop.time() - started < 2


async def test_injected_errors(fake, bot, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(1, "x")
    assert excinfo.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(1, "x")  # times=1: the next call succeeds

    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=2, times=2)
    await bot.send_message(3, "other chats are unaffected")
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(2, "x")
    await bot.send_message(2, "x")

    fake.fail("getMe", 500, "Internal Server Error")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.get_me()

    fake.block(77)
    with pytest.raises(Forbidden):
        await bot.send_message(77, "x")
    assert [code for _, _, code in fake.failed_calls] == [429, 403, 403, 500, 403]
    assert len(fake.messages_to(2)) == 1


async def test_set_my_commands_per_language(fake, bot):
    await bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("lapor", "Lapor")])
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("report", "Report")],
                              language_code="en")
    await bot.set_my_commands([BotCommand("bantuan", "Bantuan")],
                              scope=BotCommandScopeAllPrivateChats(), language_code="id")
    assert fake.commands[("default", None)] == [
        {"command": "start", "description": "Mulai"},
        {"command": "lapor", "description": "Lapor"},
    ]
    assert fake.commands[("default", "")] == fake.commands[("default", None)]
    assert [c["command"] for c in fake.commands[("default", "en")]] == ["start", "report"]
    assert fake.commands[("all_private_chats", "id")] == [
        {"command": "bantuan", "description": "Bantuan"}
    ]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == [
        "start",
        "report",
    ]
    assert await bot.delete_my_commands(language_code="en")
    assert ("default", "en") not in fake.commands
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Lapor-Banjir", "x")])


async def test_webhook_blocks_get_updates(fake, bot):
    assert fake.webhook is None
    await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    assert fake.webhook == {"url": "https://example.invalid/hook", "secret_token": "s3cret"}
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict, match=r"(?i)can't use getupdates method while webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert fake.webhook is None
    assert await bot.get_updates() == ()


async def test_deliver_webhook(fake, bot):
    received = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
        update = fake.user(3)._message_update({"text": "halo"})
        assert await fake.deliver_webhook(update) == 200
    finally:
        await runner.cleanup()
    assert received[0][0] == "abc"
    assert Update.de_json(received[0][1], bot).message.text == "halo"


async def test_edit_message_and_next_reply(fake, bot):
    user = fake.user(11)
    msg = await bot.send_message(11, "Pilih:", reply_markup=KEYBOARD)
    await user.click("Banjir")
    edited = await bot.edit_message_text("Banjir dicatat", chat_id=11, message_id=msg.message_id)
    assert edited.text == "Banjir dicatat"
    assert edited.reply_markup is None  # editing without reply_markup drops the keyboard
    assert edited.edit_date is not None
    replies = await user.replies_until_quiet(quiet=0.2)
    assert [r["text"] for r in replies] == ["Pilih:", "Banjir dicatat"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Banjir dicatat", chat_id=11, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=11, message_id=999)
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await user.click("Banjir")
    with pytest.raises(AssertionError, match="no new bot reply"):
        await user.next_reply(timeout=0.2)


async def test_parse_modes(fake, bot):
    sent = await bot.send_message(1, "<b>Awas</b> banjir &amp; longsor", parse_mode="HTML")
    assert sent.text == "Awas banjir & longsor"
    assert sent.entities[0].type == "bold"
    assert sent.entities[0].length == 4
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(1, "suhu < 38 derajat", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.send_message(1, "Tetap tenang.", parse_mode="MarkdownV2")
    sent = await bot.send_message(1, "*Tetap* tenang\\.", parse_mode="MarkdownV2")
    assert sent.text == "Tetap tenang."
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(1, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("x", callback_data="y" * 65)]]))


async def test_send_photo_upload_and_download(fake, bot):
    user = fake.user(21)
    data = b"\x89PNG fake image bytes"
    sent = await bot.send_photo(21, photo=data, caption="Peta evakuasi")
    assert sent.caption == "Peta evakuasi"
    assert sent.photo
    params = fake.calls_of("sendPhoto")[0]
    assert params["photo"]["size"] == len(data)
    assert params["caption"] == "Peta evakuasi"
    reply = await user.next_reply()
    assert reply["caption"] == "Peta evakuasi"
    file = await bot.get_file(sent.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == data

    doc = await bot.send_document(21, document=b"a,b\n1,2\n", filename="data.csv")
    assert doc.document.file_name == "data.csv"
    again = await bot.send_photo(21, photo=sent.photo[-1].file_id)  # resend by file_id
    assert again.photo[-1].file_id == sent.photo[-1].file_id


async def test_json_and_form_bodies(fake):
    url = f"{fake.base_url}{fake.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    async with httpx.AsyncClient() as client:
        r = await client.post(url, json={"chat_id": 5, "text": "123", "reply_markup": markup})
        assert r.status_code == 200
        assert r.json()["result"]["text"] == "123"
        assert r.json()["result"]["reply_markup"] == markup
        r = await client.post(url, data={"chat_id": "5", "text": "true"})
        assert r.json()["result"]["text"] == "true"
        r = await client.get(url, params={"chat_id": "5", "text": "via GET"})
        assert r.json()["ok"]
    assert [p["text"] for p in fake.calls_of("sendMessage")] == ["123", "true", "via GET"]
    assert fake.calls_of("sendMessage")[1]["chat_id"] == 5


async def test_wait_for_call_and_latency():
    fake = FakeBotAPI(latency=0.2)
    await fake.start()
    try:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            loop = asyncio.get_running_loop()
            started = loop.time()
            await bot.send_chat_action(4, "typing")
            assert loop.time() - started >= 0.2
            task = asyncio.create_task(bot.send_message(4, "halo"))
            params = await fake.wait_for_call("sendMessage", lambda p: p["chat_id"] == 4)
            assert params["text"] == "halo"
            await task
            with pytest.raises(AssertionError, match="no sendMessage call"):
                await fake.wait_for_call("sendMessage", timeout=0.3)  # already consumed
    finally:
        await fake.stop()


async def test_application_round_trip(fake):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text("Ada keadaan darurat?", reply_markup=KEYBOARD)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("Dicatat")
        await query.edit_message_text(f"Laporan: {query.data}")

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
        try:
            user = fake.user(1001, first_name="Budi")
            await user.send("/start")
            question = await user.next_reply()
            assert question["text"] == "Ada keadaan darurat?"
            await user.click("Banjir")
            answer = await user.next_reply()
            assert answer["text"] == "Laporan: lapor:banjir"
            assert answer["message_id"] == question["message_id"]
            assert user.answered_callbacks[0]["text"] == "Dicatat"
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.calls_of("deleteWebhook")


async def test_control_endpoints_in_process(fake, bot, monkeypatch):
    # PTB 22.x warns (PTBDeprecationWarning) while *constructing* RetryAfter unless this is set
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with httpx.AsyncClient(base_url=_root(fake)) as client:
        r = await client.post("/_control/updates", json=[
            {"user_id": 31, "text": "/start"},
            {"message": {"message_id": 1, "date": 0, "text": "raw",
                         "chat": {"id": 32, "type": "private", "first_name": "A"},
                         "from": {"id": 32, "is_bot": False, "first_name": "A"}}},
        ])
        assert r.json()["ok"]
        ids = r.json()["update_ids"]
        assert ids[1] == ids[0] + 1
        updates = await bot.get_updates()
        assert updates[0].message.entities[0].type == "bot_command"
        await bot.send_message(31, "Selamat datang", reply_markup=KEYBOARD)
        await bot.send_message(99, "no update from this chat")
        r = await client.post("/_control/updates", json=[{"user_id": 31, "click": "Banjir"}])
        assert r.json()["ok"]
        updates = await bot.get_updates(offset=ids[1] + 1)
        await bot.answer_callback_query(updates[0].callback_query.id)

        stats = (await client.get("/_control/stats")).json()
        assert stats["enqueued"] == 3
        assert stats["sent"] == 3
        assert stats["calls"]["sendMessage"] == 2
        sent = (await client.get("/_control/sent")).json()
        assert [s["method"] for s in sent] == ["sendMessage", "sendMessage", "answerCallbackQuery"]
        assert sent[0]["chat_id"] == 31
        assert 0 <= sent[0]["reply_to_update_latency"] < 5
        assert sent[1]["reply_to_update_latency"] is None
        assert sent[2]["chat_id"] == 31

        r = await client.post("/_control/fail", json={
            "method": "sendMessage", "error_code": 429,
            "description": "Too Many Requests: retry after 1", "retry_after": 1})
        assert r.json()["ok"]
        with pytest.raises(RetryAfter):
            await bot.send_message(31, "x")

        assert (await client.post("/_control/reset")).json() == {"ok": True}
        stats = (await client.get("/_control/stats")).json()
        assert stats == {"enqueued": 0, "sent": 0, "pending": 0, "calls": {}}


async def test_separate_process_mode():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_telegram", "--port", "0", "--latency-ms", "5",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.startswith(b"READY http://127.0.0.1:"), line
        base_url = line.decode().split()[1]
        assert base_url.endswith("/bot")
        root = base_url[: -len("/bot")]
        async with httpx.AsyncClient(base_url=root) as client:
            r = await client.post("/_control/updates", json=[{"user_id": 8, "text": "halo"}])
            assert r.json()["ok"]
            async with Bot(DEFAULT_TOKEN, base_url=base_url) as bot:
                updates = await bot.get_updates(timeout=1)
                assert updates[0].message.text == "halo"
                await bot.send_message(8, "balasan")
            stats = (await client.get("/_control/stats")).json()
            assert stats["enqueued"] == 1
            assert stats["sent"] == 1
            assert stats["calls"]["getMe"] == 1
            sent = (await client.get("/_control/sent")).json()
            assert sent[0]["chat_id"] == 8
            assert sent[0]["reply_to_update_latency"] >= 0.005
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr.decode()


async def test_rate_limit_answers_429_beyond_the_rate(monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake = FakeBotAPI(rate_limit=2)  # a bucket of 1 call, refilled every 0.5 s
    await fake.start()
    try:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message(1, "a")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(2, "b")
            assert caught.value.retry_after == dtm.timedelta(seconds=1)
            await bot.get_me()  # not a send method: never limited
            await asyncio.sleep(0.6)
            await bot.send_message(2, "b")
        assert fake.limited_count == 1
        assert [p["chat_id"] for p in fake.calls_of("sendMessage")] == [1, 2, 2]
        assert len(fake.sent_log) == 2
        async with httpx.AsyncClient(base_url=_root(fake)) as client:
            assert (await client.get("/_control/stats")).json()["limited"] == 1
    finally:
        await fake.stop()
