"""Hoax reports as residents make them (/hoaks) and the fact-check library (/cekfakta):
the three answers, pieces forming one report, photos, limits, "I have more information", and
English. Driven through the real core and router in-process (tests/chat.py); moderators'
decisions are made through the hoax service in a write, as their desk does."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from bot.channels.console import read_photo
from bot.events import Event, Kind, reply_from_json
from bot.hoax import service as svc
from bot.render import Renderer
from tests.chat import Chat
from tests.test_symptoms_flow import grant, outbox_to, person, rows

BLACKOUT = ("Akan ada pemadaman listrik total di Serang selama 12 jam mulai hari Sabtu. "
            "Saudara saya yang kerja di PLN yang bilang. Siapkan air bersih dan senter.")
FORWARDED = ("SEBARKAN!! 🙏🙏🙏 Info dari grup sebelah: Akan ada pemadaman listrik total di "
             "Serang selama 12 jam mulai hari Sabtu!!!!!! Sdr sy yg kerja di PLN yg bilang... "
             "Siapkan air bersih dan senter 🔦🔦 Mohon disebarluaskan.")
WATER = ("Air PDAM di Serang tercemar bakteri berbahaya, jangan diminum sampai hari Sabtu. "
         "Kata dokter di RSUD Serang ini benar.")
EXPLANATION = ("PLN Banten tidak menjadwalkan pemadaman total; pemeliharaan hanya di dua "
               "gardu selama dua jam.")
SOURCE = "https://www.pln.co.id/media/siaran-pers"
CHAINS = ("Harga beras naik tiga kali lipat mulai besok di semua pasar",
          "Sekolah diliburkan sebulan karena wabah campak menurut dinas",
          "Bantuan sosial tunai dibagikan di kantor pos hari Minggu",
          "Jembatan Ciujung ambruk tadi pagi, jalan ditutup total",
          "Ada vaksin palsu beredar di posyandu wilayah timur kota",
          "Gempa besar akan terjadi malam ini menurut peramal Jepang",
          "Telur palsu dari plastik dijual murah di minimarket",
          "Air galon merek tertentu mengandung racun tikus",
          "Penculik anak menyamar jadi pengemis di perumahan",
          "Pendaftaran kartu sembako gratis lewat tautan WhatsApp ini",
          "Uang kertas lama tidak berlaku lagi mulai bulan depan",
          "Minum air kelapa dicampur garam menyembuhkan demam berdarah")


async def publish(services, case_id: int, verdict: str = "hoaks") -> int:  # type: ignore[no-untyped-def]
    """A moderator holds the case, then publishes it; how many reporters were told."""
    await grant(services, "console:mod", "moderator")
    now = services.clock.now()
    held = await services.store.write(lambda tx: svc.hold(services, tx, case_id,
                                                          "console:mod", now))
    assert held is not None
    told = await services.store.write(lambda tx: svc.publish(
        services, tx, case_id, "console:mod", verdict, EXPLANATION, [SOURCE], now))
    assert told is not None
    return told


async def report(chat: Chat, text: str) -> str:
    await chat.send("/hoaks")
    assert "Teruskan (forward) atau tempel pesan" in chat.text
    await chat.send(text)
    return chat.text


def case_of(chat: Chat) -> int:
    """The case number an answer names."""
    text = chat.text
    return int(text.split("#", 1)[1].split(")", 1)[0])


async def verdicts_to(services, identity: str) -> list[str]:  # type: ignore[no-untyped-def]
    words = Renderer(services.content, "console", "id")
    return [words.render(reply_from_json(row).text, "id")
            for row in await outbox_to(services, identity) if row["kind"] == "hoax_verdict"]


def picture() -> Image.Image:
    image = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(30, 80, 160))
    draw.polygon([(100, 300), (200, 150), (300, 300)], fill=(150, 60, 40))
    draw.ellipse((450, 40, 560, 150), fill=(250, 200, 0))
    draw.text((20, 20), "BANJIR SERANG", fill="black")
    return image


async def send_photo(chat: Chat, path: Path, caption: str = "") -> list[str]:
    event = Event(identity=chat.identity, channel="console", address=chat.user,
                  kind=Kind.MEDIA, media_type="photo", media_ref=str(path), text=caption)
    await chat.core.handle(event, chat._deliver)
    return chat.texts


# --- the three answers -------------------------------------------------------------------


async def test_new_then_open_then_the_verdict_at_once(services) -> None:
    ani, budi, citra = [await person(services, u) for u in ("ani", "budi", "citra")]
    answer = await report(ani, BLACKOUT)
    assert "Laporan diterima" in answer and "belum pernah dilaporkan" in answer
    assert "diberi tahu hasilnya" in answer
    assert {"🚫 Lapor hoaks lain", "🔎 Cek fakta", "🏠 Menu utama"} <= set(ani.labels)
    case = case_of(ani)
    answer = await report(budi, BLACKOUT)
    assert "1 warga lain juga melaporkan ini" in answer and f"#{case}" in answer
    assert "diberi tahu hasilnya" in answer
    answer = await report(ani, BLACKOUT)  # the same person again
    assert "sudah melaporkan pesan ini" in answer and "1 warga lain" in answer
    assert await publish(services, case) == 2
    answer = await report(citra, BLACKOUT)
    assert "HOAKS / HOAX" in answer and EXPLANATION in answer and SOURCE in answer
    assert "Tim moderasi Siaga Warga" in answer
    assert "💬 Saya punya info tambahan" in citra.labels and "🚫 Lapor hoaks lain" in \
        citra.labels
    for chat in (ani, budi):  # each earlier reporter hears it once, the newcomer not again
        told = await verdicts_to(services, chat.identity)
        assert len(told) == 1 and "HOAKS / HOAX" in told[0] and EXPLANATION in told[0]
    assert await verdicts_to(services, citra.identity) == []
    answer = await report(budi, BLACKOUT)  # reported before, published since: the verdict
    assert "HOAKS / HOAX" in answer


async def test_boilerplate_and_slang_join_the_case_and_short_texts_do_not(services) -> None:
    ani, budi, citra = [await person(services, u) for u in ("ani", "budi", "citra")]
    await report(ani, BLACKOUT)
    case = case_of(ani)
    answer = await report(budi, FORWARDED)
    assert "1 warga lain juga melaporkan ini" in answer and f"#{case}" in answer
    await report(citra, "Listrik!")  # under 8 characters: not matched, a case of its own
    assert "belum pernah dilaporkan" in citra.text and case_of(citra) != case


async def test_a_resized_lower_quality_copy_of_a_photo_joins_its_case(services,
                                                                     tmp_path) -> None:
    services.downloads["console"] = read_photo
    original, copy = tmp_path / "banjir.png", tmp_path / "banjir-wa.jpg"
    image = picture()
    image.save(original, format="PNG")
    image.resize((320, 240)).save(copy, format="JPEG", quality=40)
    ani, budi = await person(services, "ani"), await person(services, "budi")
    await ani.send("/hoaks")
    await send_photo(ani, original)
    assert "belum pernah dilaporkan" in ani.text
    case = case_of(ani)
    await budi.send("/hoaks")
    await send_photo(budi, copy, "Banjir besar di Serang hari ini")
    assert "1 warga lain juga melaporkan ini" in budi.text and f"#{case}" in budi.text
    assert await rows(services, "SELECT COUNT(*) FROM hoax_report WHERE case_id = ?",
                      case) == [(2,)]
    await publish(services, case)
    [told] = await verdicts_to(services, ani.identity)
    assert "📷 (foto tanpa teks)" in told and EXPLANATION in told
    # a file that is no picture: said so; its caption is still reported
    broken = tmp_path / "rusak.jpg"
    broken.write_bytes(b"not a picture")
    citra = await person(services, "citra")
    await citra.send("/hoaks")
    await send_photo(citra, broken)
    assert "tidak bisa kami baca" in citra.text and "Teruskan (forward)" in citra.text
    await send_photo(citra, broken, WATER)
    assert "hanya keterangannya" in citra.text and "Laporan diterima" in citra.text


async def test_stickers_get_please_send_text_or_a_photo(services) -> None:
    ani = await person(services, "ani")
    await ani.send("/hoaks")
    event = Event(identity=ani.identity, channel="console", address="ani", kind=Kind.MEDIA,
                  media_type="sticker")
    await ani.core.handle(event, ani._deliver)
    assert "Mohon kirim teks, tautan, atau foto" in ani.text
    assert await rows(services, "SELECT COUNT(*) FROM hoax_report") == [(0,)]


# --- pieces, length, limits ----------------------------------------------------------------


async def test_pieces_within_the_window_are_one_report(services, clock, tmp_path) -> None:
    services.downloads["console"] = read_photo
    path = tmp_path / "banjir.png"
    picture().save(path, format="PNG")
    ani = await person(services, "ani")
    await ani.send("/hoaks")
    await send_photo(ani, path)
    assert "Laporan diterima" in ani.text
    clock.advance(seconds=3)
    await ani.send(WATER)  # the photo's text, sent right after
    assert ani.text.startswith("➕ Ditambahkan ke laporan Anda")
    assert "🚫 Lapor hoaks lain" in ani.labels
    assert await rows(services, "SELECT COUNT(*) FROM hoax_report") == [(1,)]
    [(text, photo_hash)] = await rows(services, "SELECT text, photo_hash FROM hoax_report")
    assert "PDAM" in text and photo_hash
    clock.advance(seconds=30)
    await ani.send(BLACKOUT)  # after the window: a report of its own
    assert "Laporan diterima" in ani.text
    assert await rows(services, "SELECT COUNT(*) FROM hoax_report") == [(2,)]


async def test_a_long_text_is_cut_with_a_notice(services) -> None:
    ani = await person(services, "ani")
    await report(ani, BLACKOUT + " " + "lorem ipsum " * 300)
    assert "dipotong menjadi 2.000 karakter" in ani.texts[0]
    assert "Laporan diterima" in ani.texts[1]
    [(length,)] = await rows(services, "SELECT LENGTH(text) FROM hoax_report")
    assert length == svc.MAX_TEXT


async def test_the_hourly_limit_and_a_mute(services, clock) -> None:
    ani = await person(services, "ani")
    limit = services.settings.hoax.reports_per_hour
    await ani.send("/hoaks")
    for i in range(limit):
        await ani.send(CHAINS[i % len(CHAINS)] + f" Kode {i * 7919}.")
        assert "Laporan diterima" in ani.text, i
        clock.advance(seconds=20)
    await ani.send("Satu pesan lagi tentang bantuan sosial yang katanya dibagikan besok.")
    assert f"sudah mengirim {limit} laporan dalam satu jam" in ani.text
    assert await rows(services, "SELECT COUNT(*) FROM hoax_report") == [(limit,)]
    clock.advance(hours=1)
    await report(ani, WATER)
    assert "Laporan diterima" in ani.text
    [(report_id,)] = await rows(services, "SELECT MAX(id) FROM hoax_report")
    now = clock.now()
    await services.store.write(lambda tx: svc.mute(services, tx, report_id, 7, "console:mod",
                                                   now))
    await ani.send("/hoaks")
    assert "tidak dapat mengirim laporan hoaks" in ani.text and "sampai" in ani.text
    assert "Teruskan (forward)" not in ani.text


# --- the library -------------------------------------------------------------------------


async def test_the_library_before_onboarding_lists_pages_and_searches(services) -> None:
    eka = Chat(services, "eka")  # never onboarded
    await eka.send("/cekfakta")
    assert "putusan terbaru" in eka.text and "(contoh)" in eka.text
    assert "HOAKS / HOAX" in eka.text
    first = eka.text
    await eka.press("Lebih banyak")
    assert eka.text != first and "6. HOAKS / HOAX" in eka.text
    await eka.press("6.")
    assert "Hasil cek fakta" in eka.text and "Sumber" in eka.text and "(contoh)" in eka.text
    await eka.send("/cekfakta 5G")
    assert "Hasil pencarian" in eka.text and "5G" in eka.text
    await eka.press("1.")
    assert "Jabar Saber Hoaks" in eka.text and "https://saberhoaks.jabarprov.go.id/" in \
        eka.text
    await eka.send("/cekfakta")
    await eka.send("masker")  # typed at the library: a search
    assert "Hasil pencarian" in eka.text and "CO2" in eka.text
    await eka.send("kucing terbang")
    assert "Tidak ada putusan cek fakta" in eka.text and "/hoaks" in eka.text


async def test_a_published_verdict_is_in_the_library(services) -> None:
    ani = await person(services, "ani")
    await report(ani, BLACKOUT)
    await publish(services, case_of(ani))
    await ani.send("/cekfakta")
    assert "pemadaman listrik" in ani.texts[0].split("2.")[0]  # the latest first
    await ani.send("pemadaman PLN")
    assert "Hasil pencarian" in ani.text and "pemadaman" in ani.text
    await ani.press("1.")
    assert EXPLANATION in ani.text and "(contoh)" not in ani.text


# --- more information ----------------------------------------------------------------------


async def test_more_information_reopens_the_case_and_tells_the_moderators(services) -> None:
    ani, budi = await person(services, "ani"), await person(services, "budi")
    await person(services, "mod")  # a moderator who has opened the bot
    await report(ani, BLACKOUT)
    case = case_of(ani)
    await publish(services, case)
    await report(budi, BLACKOUT)
    assert "HOAKS / HOAX" in budi.text
    await budi.press("Saya punya info tambahan")
    assert "Info tambahan" in budi.text
    await budi.send("x" * 1001)
    assert "terlalu panjang" in budi.text
    await budi.send("Di RW 02 memang ada pemadaman kemarin, tapi hanya dua jam.")
    assert "moderator akan meninjau lagi" in budi.text.lower()
    assert "diberi tahu hasilnya" in budi.text
    assert await rows(services, "SELECT status FROM hoax_case WHERE id = ?", case) == \
        [("open",)]
    assert await rows(services, "SELECT text FROM hoax_note WHERE case_id = ?", case) == \
        [("Di RW 02 memang ada pemadaman kemarin, tapi hanya dua jam.",)]
    assert [r["kind"] for r in await outbox_to(services, "console:mod")].count("hoax_mod") \
        == 1
    # the verdict is under review now; a note from its old message is still accepted
    await ani.send("/cekfakta")
    await ani.send("pemadaman")
    assert "Tidak ada putusan" in ani.text
    await ani.forge(f"hx-show:{case}")
    assert "ditinjau ulang" in ani.text
    await ani.forge(f"hx-more:{case}")
    await ani.send("Saya juga dengar dari tetangga, katanya pemeliharaan gardu.")
    assert "moderator akan meninjau lagi" in ani.text.lower()
    assert await rows(services, "SELECT COUNT(*) FROM hoax_note") == [(2,)]


async def test_a_muted_person_cannot_send_a_note(services) -> None:
    ani = await person(services, "ani")
    await report(ani, BLACKOUT)
    case = case_of(ani)
    await publish(services, case)
    [(report_id,)] = await rows(services, "SELECT MAX(id) FROM hoax_report")
    now = services.clock.now()
    await services.store.write(lambda tx: svc.mute(services, tx, report_id, 1, "console:mod",
                                                   now))
    await ani.forge(f"hx-more:{case}")
    assert "tidak dapat mengirim" in ani.text
    assert await rows(services, "SELECT COUNT(*) FROM hoax_note") == [(0,)]


# --- English -------------------------------------------------------------------------------


async def to_english(chat: Chat) -> None:
    await chat.send("/pengaturan")
    await chat.press("Bahasa")
    await chat.press("English")


async def test_in_english(services) -> None:
    ani, budi, citra = [await person(services, u) for u in ("ani", "budi", "citra")]
    for chat in (ani, budi, citra):
        await to_english(chat)
    await ani.send("/hoax")
    assert "Forward or paste the suspicious message" in ani.text
    await ani.send(BLACKOUT)
    assert "Nobody had reported this message yet" in ani.text
    await budi.send("/hoax")
    await budi.send(BLACKOUT)
    assert "1 other resident also reported this" in budi.text
    await citra.send("/hoax")
    await citra.send(FORWARDED)
    assert "2 other residents also reported this" in citra.text
    assert {"🚫 Report another hoax", "🔎 Check facts"} <= set(citra.labels)
    await citra.send("/factcheck vaksin")
    assert "Search results" in citra.text and "(example)" in citra.text
    await citra.press("1.")
    assert "Fact check:" in citra.text and "💬 I have more information" in citra.labels
