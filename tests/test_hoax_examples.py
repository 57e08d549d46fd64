"""The fact-check library starts with a few real, dated debunks marked as examples: a
forwarded chain message like one of them gets its verdict at once; the operator lists them
and deletes those nobody reported to."""

from __future__ import annotations

from bot.__main__ import main
from bot.hoax import service as svc


async def test_a_chain_message_like_an_example_gets_its_verdict_at_once(services) -> None:
    book = services.claims
    now = services.clock.now()
    received = await services.store.write(lambda tx: svc.receive(
        services, tx, book, "console:w1", "cimuncang-rw02-rt03",
        "VIRUS CORONA menyebar lewat jaringan 5G!!! matikan hp kalau mau selamat. Sebarkan!!",
        "", None, now))
    assert received.outcome == "published" and received.case.example
    assert received.case.verdict == "hoaks" and "Jabar Saber Hoaks" in \
        received.case.explanation
    assert received.case.sources == ("https://saberhoaks.jabarprov.go.id/",)


def test_the_operator_lists_and_deletes_the_examples(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SIAGA_DB", str(tmp_path / "ex.db"))
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert "7 example verdicts" in out and "5G" in out
    assert main(["examples", "--delete"]) == 0
    assert "deleted 7 example verdicts" in capsys.readouterr().out
    assert main(["examples"]) == 0
    assert "0 example verdicts" in capsys.readouterr().out


async def test_an_example_someone_reported_to_is_kept(services) -> None:
    now = services.clock.now()
    await services.store.write(lambda tx: svc.receive(
        services, tx, services.claims, "console:w1", "cimuncang-rw02-rt03",
        "Memakai masker terlalu lama membuat keracunan karbon dioksida (CO2) dan bisa pingsan.",
        "", None, now))
    gone = await services.store.write(lambda tx: tx.hoax.delete_examples())
    assert gone == 6
    (left,) = await services.store.reads.hoax.examples()
    assert "masker" in left.claim
