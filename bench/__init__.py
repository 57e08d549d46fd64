"""Load benchmark: Siaga Warga against a bare python-telegram-bot echo bot.

``python -m bench [surge|raw|crash|broadcast|fanout|bcrash|flood|wave|all] [--quick] ...``

(broadcast, fanout and bcrash send one notice to many residents, see :mod:`bench.broadcast`;
flood and wave run our bot quiet and under load, see :mod:`bench.stress`; none of them has an
echo-bot run.)

Three processes take part in every bot run:

* the orchestrator (:mod:`bench.cli`), which starts and kills the others and prints the table;
* the fake Telegram Bot API server with the simulated residents (:mod:`bench.driver`), one
  fresh process per bot run, so every run starts from empty server state;
* the bot under test, ``python -m bot run`` or the echo bot (:mod:`bench.echobot`), with a
  fresh SQLite file per run.

Latency is measured inside the fake server on one clock: from the moment an update is
enqueued for getUpdates to the moment the sendMessage that answers it reaches the server.
"""
