"""The baseline: a bare python-telegram-bot echo bot with default settings.

One update at a time (PTB's default ``concurrent_updates=False``), no database. Text messages
are echoed; a button press is answered (answerCallbackQuery) and then gets one message.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot python -m bench.echobot
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return
    await context.bot.send_message(chat_id=update.effective_chat.id, text=message.text or "?")


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    await context.bot.send_message(chat_id=chat_id, text=f"pressed {query.data}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    poll_timeout = int(os.environ.get("TELEGRAM_POLL_TIMEOUT", "1"))
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(button))
    application.run_polling(timeout=timedelta(seconds=poll_timeout),
                            allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
