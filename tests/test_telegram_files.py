"""Files the bot makes (a chart, a CSV) reach Telegram as uploads; a caption longer than
Telegram allows (1,024 characters) follows the file as its own message, with the buttons."""

from __future__ import annotations

import telegram

from bot.channels.telegram_replies import TelegramReplies
from bot.content import load_content
from bot.events import Media, Reply, button, t


async def test_a_long_caption_follows_the_file(fake) -> None:
    fake.user(4242)
    bot = telegram.Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    replies = TelegramReplies(load_content(), "id")
    long = "Ringkasan " * 150  # 1,500 characters
    reply = Reply(t("raw", value=long), ((button("common.menu", "menu"),),),
                  Media("document", name="laporan.csv", data=b"id,level\r\n1,high\r\n"))
    async with bot:
        await replies.send(bot, 4242, reply, "id")
        short = Reply(t("raw", value="Grafik"), (), Media("photo", name="g.png",
                                                            data=_png()))
        await replies.send(bot, 4242, short, "id")
    (doc,) = fake.calls_of("sendDocument")
    assert doc.get("caption") is None and doc.get("reply_markup") is None
    (text,) = [c for c in fake.calls_of("sendMessage") if c.get("chat_id") in (4242, "4242")]
    assert text["text"].startswith("Ringkasan") and "reply_markup" in text
    (photo,) = fake.calls_of("sendPhoto")
    assert photo["caption"] == "Grafik"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()
